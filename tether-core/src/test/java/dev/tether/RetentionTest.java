package dev.tether;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A long-lived parent retains nothing of its ended children (issue 3, section 5): 100,000 children, each ended on
 * its own and dropped, all become garbage, the parent holds none of them, and no timer is left scheduled.
 */
class RetentionTest {

    private static final int CHILDREN = 100_000;

    @AfterEach
    void currentIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
    }

    /** What each of the 100,000 is, and how it is ended. */
    enum Kind {
        WITH_CANCEL,
        WITH_VALUE_THEN_WITH_CANCEL,
        /** On the system clock, an hour away, with a done() waiter, so a real timer is armed and must be taken back. */
        WITH_TIMEOUT_AND_DONE_WAITER,
        /** The same on a manual clock, where the scheduled timers can be counted. */
        WITH_TIMEOUT_AND_DONE_WAITER_ON_MANUAL_CLOCK,
        /** Children that wait on the parent's deadline: one timer, the parent's, and nothing of the children. */
        WITH_CANCEL_AND_ON_DONE_UNDER_A_PARENT_DEADLINE,
        /** onDone registrations on the parent, stopped. */
        ON_DONE_STOPPED
    }

    @ParameterizedTest
    @EnumSource
    void hundredThousandEndedChildrenOfALiveParent_areGarbageCollectable(Kind kind) throws InterruptedException {
        ManualTimeSource time = ManualTimeSource.create();
        CancellableContext parent = switch (kind) {
            case WITH_TIMEOUT_AND_DONE_WAITER_ON_MANUAL_CLOCK -> Context.root(time).withCancel();
            case WITH_CANCEL_AND_ON_DONE_UNDER_A_PARENT_DEADLINE -> Context.root(time).withTimeout(Duration.ofHours(2));
            default -> Context.background().withCancel();
        };
        ReferenceQueue<Object> queue = new ReferenceQueue<>();
        List<Reference<Object>> refs = new ArrayList<>(CHILDREN);

        for (int i = 0; i < CHILDREN; i++) {
            refs.add(new WeakReference<>(endedChild(parent, kind), queue));
        }
        int collected = awaitCollected(queue, CHILDREN);

        assertEquals(CHILDREN, collected, "children collected");
        assertEquals(0, ((CancelContext) parent).childCount(), "children or listeners the parent still holds");
        assertFalse(parent.isDone());
        int expectedTimers = kind == Kind.WITH_CANCEL_AND_ON_DONE_UNDER_A_PARENT_DEADLINE ? 1 : 0;
        assertEquals(expectedTimers, time.pendingTimers(), "timers left scheduled");
        Reference.reachabilityFence(refs);
    }

    /** Makes one child of {@code kind}, ends it, and returns what must become garbage. */
    private static Object endedChild(CancellableContext parent, Kind kind) {
        return switch (kind) {
            case WITH_CANCEL -> {
                CancellableContext c = parent.withCancel();
                c.cancel();
                yield c;
            }
            case WITH_VALUE_THEN_WITH_CANCEL -> {
                CancellableContext c = parent.withValue(Key.of("k"), new Object()).withCancel();
                c.cancel();
                yield c;
            }
            case WITH_TIMEOUT_AND_DONE_WAITER, WITH_TIMEOUT_AND_DONE_WAITER_ON_MANUAL_CLOCK -> {
                CancellableContext c = parent.withTimeout(Duration.ofHours(1));
                c.done().thenRun(() -> { });
                c.cancel(new IllegalStateException("dropped"));
                yield c;
            }
            case WITH_CANCEL_AND_ON_DONE_UNDER_A_PARENT_DEADLINE -> {
                CancellableContext c = parent.withCancel();
                c.onDone(() -> { }, Runnable::run);
                c.cancel();
                yield c;
            }
            case ON_DONE_STOPPED -> {
                Object captured = new Object();
                Registration r = parent.onDone(() -> captured.hashCode(), Runnable::run);
                if (!r.stop()) {
                    throw new AssertionError("stop() on a live parent's registration returned false");
                }
                yield r;
            }
        };
    }

    /** Collects until {@code expected} references are cleared, calling System.gc() at most 50 times. */
    private static int awaitCollected(ReferenceQueue<Object> queue, int expected) throws InterruptedException {
        int collected = 0;
        for (int attempt = 0; attempt < 50 && collected < expected; attempt++) {
            System.gc();
            for (Reference<?> r; collected < expected && (r = queue.remove(100)) != null; ) {
                collected++;
            }
        }
        return collected;
    }
}
