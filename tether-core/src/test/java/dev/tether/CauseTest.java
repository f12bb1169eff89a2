package dev.tether;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Go's Cause / WithCancelCause rules, and throwIfDone, which carries the cause. */
class CauseTest {

    private final ManualTimeSource time = ManualTimeSource.create();
    private final Context root = Context.root(time);

    @AfterEach
    void currentContextIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
    }

    @Test
    void rootsHaveNoErrAndNoCause() {
        for (Context c : new Context[] {Context.background(), Context.todo(), root}) {
            assertNull(c.err(), c.toString());
            assertNull(c.cause(), c.toString());
        }
    }

    @Test
    void liveContextHasNoCause() {
        CancellableContext ctx = root.withCancel();

        Throwable cause = ctx.cause();

        assertNull(cause);
        ctx.cancel();
    }

    @Test
    void cancelWithoutCauseReportsErrAsCause() {
        CancellableContext ctx = root.withCancel();

        ctx.cancel();

        assertInstanceOf(ContextCancelledException.class, ctx.err());
        assertSame(ctx.err(), ctx.cause());
    }

    @Test
    void cancelWithCauseKeepsContextCancelledAsErrAndReportsTheCause() {
        CancellableContext ctx = root.withCancel();
        IllegalStateException cause = new IllegalStateException("shutting down");

        ctx.cancel(cause);

        assertInstanceOf(ContextCancelledException.class, ctx.err());
        assertSame(cause, ctx.cause());
        assertSame(cause, ctx.err().getCause());
    }

    @Test
    void anyThrowableCanBeACause() {
        CancellableContext checked = root.withCancel();
        CancellableContext error = root.withCancel();
        IOException io = new IOException("disk");
        AssertionError assertion = new AssertionError("bug");

        checked.cancel(io);
        error.cancel(assertion);

        assertSame(io, checked.cause());
        assertSame(assertion, error.cause());
    }

    @Test
    void parentCauseReachesChildThatIsCancelledLater() {
        CancellableContext parent = root.withCancel();
        CancellableContext child = parent.withCancel();
        RuntimeException parentCause = new RuntimeException("parent");

        parent.cancel(parentCause);
        boolean childCancelled = child.cancel(new RuntimeException("child"));

        assertFalse(childCancelled);
        assertSame(parentCause, child.cause());
    }

    @Test
    void childCauseSticksWhenParentIsCancelledAfterwards() {
        CancellableContext parent = root.withCancel();
        CancellableContext child = parent.withCancel();
        RuntimeException childCause = new RuntimeException("child");

        child.cancel(childCause);
        parent.cancel(new RuntimeException("parent"));

        assertSame(childCause, child.cause());
    }

    @Test
    void expiredDeadlineReportsErrAsCause() {
        CancellableContext ctx = root.withTimeout(Duration.ofSeconds(1));

        time.advance(Duration.ofSeconds(1));

        assertInstanceOf(DeadlineExceededException.class, ctx.err());
        assertSame(ctx.err(), ctx.cause());
    }

    @Test
    void cancelWithCauseBeforeDeadlineKeepsTheCauseAfterTheDeadline() {
        CancellableContext ctx = root.withTimeout(Duration.ofSeconds(1));
        RuntimeException cause = new RuntimeException("gave up");

        ctx.cancel(cause);
        time.advance(Duration.ofSeconds(5));

        assertInstanceOf(ContextCancelledException.class, ctx.err());
        assertSame(cause, ctx.cause());
    }

    @Test
    void causeGivenAfterTheDeadlinePassedIsIgnored() {
        CancellableContext ctx = root.withTimeout(Duration.ofSeconds(1));
        time.advance(Duration.ofSeconds(2));

        boolean cancelled = ctx.cancel(new RuntimeException("too late"));

        assertFalse(cancelled);
        assertInstanceOf(DeadlineExceededException.class, ctx.err());
        assertSame(ctx.err(), ctx.cause());
    }

    @Test
    void childThatExpiredAtOnceKeepsDeadlineExceededWhenParentIsCancelledWithCause() {
        CancellableContext parent = root.withCancel();
        CancellableContext child = parent.withTimeout(Duration.ZERO);

        parent.cancel(new RuntimeException("too slow"));

        assertInstanceOf(DeadlineExceededException.class, child.err());
        assertSame(child.err(), child.cause());
    }

    @Test
    void zeroTimeoutUnderParentCancelledWithCauseTakesParentsErrAndCause() {
        CancellableContext parent = root.withCancel();
        RuntimeException cause = new RuntimeException("too slow");
        parent.cancel(cause);

        CancellableContext child = parent.withTimeout(Duration.ZERO);

        assertSame(parent.err(), child.err());
        assertInstanceOf(ContextCancelledException.class, child.err());
        assertSame(cause, child.cause());
    }

    @Test
    void withoutCancelOfContextCancelledWithCauseHasNoCause() {
        CancellableContext parent = root.withCancel();
        parent.cancel(new RuntimeException("cause"));

        Context detached = parent.withoutCancel();

        assertNull(detached.err());
        assertNull(detached.cause());
    }

    @Test
    void cancellableUnderWithoutCancelHasItsOwnCause() {
        CancellableContext parent = root.withCancel();
        parent.cancel(new RuntimeException("parent"));
        CancellableContext child = parent.withoutCancel().withCancel();
        RuntimeException cause = new RuntimeException("child");

        child.cancel(cause);

        assertSame(cause, child.cause());
    }

    @Test
    void throwIfDoneDoesNothingWhileLive() {
        CancellableContext ctx = root.withTimeout(Duration.ofSeconds(1));

        assertDoesNotThrow(ctx::throwIfDone);
        assertDoesNotThrow(Context.background()::throwIfDone);
        ctx.cancel();
    }

    @Test
    void throwIfDoneThrowsErrWithTheCauseAsItsCause() {
        CancellableContext ctx = root.withCancel();
        Context child = ctx.withCancel();
        RuntimeException cause = new RuntimeException("why");
        ctx.cancel(cause);

        ContextDoneException thrown = assertThrows(ContextDoneException.class, child::throwIfDone);

        assertSame(child.err(), thrown);
        assertSame(cause, thrown.getCause());
    }

    @Test
    void throwIfDoneThrowsErrWithoutCauseWhenCauseIsErrItself() {
        CancellableContext cancelled = root.withCancel();
        CancellableContext expired = root.withTimeout(Duration.ZERO);
        cancelled.cancel();

        ContextDoneException fromCancel = assertThrows(ContextCancelledException.class, cancelled::throwIfDone);
        ContextDoneException fromDeadline = assertThrows(DeadlineExceededException.class, expired::throwIfDone);

        assertSame(cancelled.err(), fromCancel);
        assertNull(fromCancel.getCause());
        assertSame(expired.err(), fromDeadline);
        assertNull(fromDeadline.getCause());
    }
}
