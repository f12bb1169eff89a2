package dev.tether;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Go's WithoutCancel: keeps values only; never done; no deadline; cancellation does not cross it. */
class WithoutCancelTest {

    private static final Key<String> USER = Key.of("user");

    private final ManualTimeSource time = ManualTimeSource.create();
    private final Context root = Context.root(time);

    @AfterEach
    void currentContextIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
    }

    private static void assertNeverDone(Context c) {
        assertFalse(c.isDone());
        assertNull(c.err());
        assertNull(c.cause());
        assertTrue(c.deadline().isEmpty());
        assertTrue(c.remaining().isEmpty());
        assertFalse(TestSupport.isComplete(c.done()));
        assertDoesNotThrow(c::throwIfDone);
    }

    @Test
    void keepsTheParentsValues() {
        CancellableContext parent = root.withValue(USER, "alice").withTimeout(Duration.ofSeconds(1));

        Context detached = parent.withoutCancel();

        assertEquals("alice", detached.value(USER));
        parent.cancel();
    }

    @Test
    void isNotDoneAndHasNoDeadlineWhileParentIsLive() {
        CancellableContext parent = root.withTimeout(Duration.ofSeconds(1));

        Context detached = parent.withoutCancel();

        assertNeverDone(detached);
        parent.cancel();
    }

    @Test
    void staysLiveWhenParentIsCancelled() {
        CancellableContext parent = root.withValue(USER, "alice").withCancel();
        Context detached = parent.withoutCancel();

        parent.cancel(new RuntimeException("cause"));

        assertNeverDone(detached);
        assertEquals("alice", detached.value(USER));
    }

    @Test
    void staysLiveWhenParentsDeadlinePasses() {
        CancellableContext parent = root.withTimeout(Duration.ofSeconds(1));
        Context detached = parent.withoutCancel();

        time.advance(Duration.ofSeconds(2));

        assertTrue(parent.isDone());
        assertNeverDone(detached);
    }

    @Test
    void isLiveEvenWhenMadeFromAContextThatIsAlreadyDone() {
        CancellableContext parent = root.withValue(USER, "alice").withCancel();
        parent.cancel();

        Context detached = parent.withoutCancel();

        assertNeverDone(detached);
        assertEquals("alice", detached.value(USER));
    }

    @Test
    void isNotLinkedToItsParent() {
        CancelContext parent = (CancelContext) root.withCancel();

        parent.withoutCancel();
        parent.withoutCancel().withCancel();

        assertEquals(0, parent.childCount());
        parent.cancel();
    }

    @Test
    void childrenBelowItAreNotCancelledByTheOriginalParent() {
        CancellableContext parent = root.withTimeout(Duration.ofSeconds(1));
        CancellableContext child = parent.withoutCancel().withCancel();

        parent.cancel();

        assertFalse(child.isDone());
        child.cancel();
        assertTrue(child.isDone());
        assertFalse(parent.withoutCancel().isDone());
    }

    @Test
    void childDeadlineBelowItIsItsOwnNotTheParentsEarlierOne() {
        CancellableContext parent = root.withTimeout(Duration.ofSeconds(1));
        CancellableContext child = parent.withoutCancel().withTimeout(Duration.ofSeconds(5));

        time.advance(Duration.ofSeconds(1));

        assertEquals(Optional.of(time.now().plusSeconds(4)), child.deadline());
        assertFalse(child.isDone());
        time.advance(Duration.ofSeconds(4));
        assertInstanceOf(DeadlineExceededException.class, child.err());
    }

    @Test
    void valuesAddedBelowItAreSeenBelowOnly() {
        Key<String> tenant = Key.of("tenant");
        Context parent = root.withValue(USER, "alice");

        Context detached = parent.withoutCancel().withValue(tenant, "acme");

        assertEquals("alice", detached.value(USER));
        assertEquals("acme", detached.value(tenant));
        assertNull(parent.value(tenant));
    }

    @Test
    void onDoneNeverRunsAndStopReportsItStoppedTheAction() {
        CancellableContext parent = root.withCancel();
        Context detached = parent.withoutCancel();
        AtomicInteger runs = new AtomicInteger();
        Registration registration = detached.onDone(runs::incrementAndGet, Runnable::run);

        parent.cancel();

        assertEquals(0, runs.get());
        assertTrue(registration.stop());
        assertFalse(registration.stop());
    }

    @Test
    void noTimerIsScheduledForAWaiterOnWithoutCancel() {
        CancellableContext parent = root.withTimeout(Duration.ofSeconds(1));
        Context detached = parent.withoutCancel();

        detached.onDone(() -> { }, Runnable::run);
        detached.done();

        assertEquals(0, time.pendingTimers());
        parent.cancel();
    }
}
