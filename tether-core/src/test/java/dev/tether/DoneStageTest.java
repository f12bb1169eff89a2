package dev.tether;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** done(): a read-only stage that completes normally when the context is done, and never otherwise. */
class DoneStageTest {

    private static final Key<String> USER = Key.of("user");

    private final ManualTimeSource time = ManualTimeSource.create();
    private final Context root = Context.root(time);

    @AfterEach
    void currentContextIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
    }

    private static void assertCompletedNormally(CompletionStage<Void> stage) {
        CompletableFuture<Void> copy = stage.toCompletableFuture();
        assertTrue(copy.isDone(), "completed");
        assertFalse(copy.isCompletedExceptionally(), "normally, not exceptionally");
        assertFalse(copy.isCancelled(), "normally, not cancelled");
        assertNull(copy.join());
    }

    /** Every way an outsider might try to complete a stage, on the stage itself and on its toCompletableFuture(). */
    private static void tryToComplete(CompletionStage<Void> stage) {
        List<Consumer<CompletableFuture<Void>>> attempts = List.of(
                f -> f.complete(null),
                f -> f.completeExceptionally(new IllegalStateException("outsider")),
                f -> f.cancel(true),
                f -> f.obtrudeValue(null),
                f -> f.obtrudeException(new IllegalStateException("outsider")),
                f -> f.completeAsync(() -> null, Runnable::run));
        for (Consumer<CompletableFuture<Void>> attempt : attempts) {
            try {
                attempt.accept(stage.toCompletableFuture());
            } catch (RuntimeException refused) {
                // refusing is fine; what matters is that the stage is unchanged
            }
            if (stage instanceof CompletableFuture<Void> future) {
                try {
                    attempt.accept(future);
                } catch (RuntimeException refused) {
                    // as above
                }
            }
        }
    }

    @Test
    void doneCompletesNormallyWhenTheContextIsCancelled() {
        CancellableContext ctx = root.withCancel();
        CompletionStage<Void> stage = ctx.done();
        assertFalse(TestSupport.isComplete(stage));

        ctx.cancel(new IllegalStateException("with a cause, still a normal completion"));

        assertCompletedNormally(stage);
    }

    @Test
    void doneCompletesWhenTheDeadlinePasses() {
        CancellableContext ctx = root.withTimeout(Duration.ofSeconds(1));
        CompletionStage<Void> stage = ctx.done();
        assertEquals(1, time.pendingTimers());

        time.advance(Duration.ofMillis(999));
        boolean completeBefore = TestSupport.isComplete(stage);
        time.advance(Duration.ofMillis(1));

        assertFalse(completeBefore);
        assertCompletedNormally(stage);
        assertEquals(0, time.pendingTimers());
    }

    @Test
    void doneOfAContextThatIsAlreadyDoneIsComplete() {
        CancellableContext cancelled = root.withCancel();
        cancelled.cancel();
        CancellableContext expired = root.withTimeout(Duration.ofSeconds(1));
        time.advance(Duration.ofSeconds(1));

        CompletionStage<Void> cancelledStage = cancelled.done();
        CompletionStage<Void> expiredStage = expired.done();

        assertCompletedNormally(cancelledStage);
        assertCompletedNormally(expiredStage);
        assertEquals(0, time.pendingTimers());
    }

    @Test
    void doneOfDescendantsValuesAndViewsCompletesWhenAnAncestorIsCancelled() {
        CancellableContext parent = root.withCancel();
        Context value = parent.withValue(USER, "alice");
        CancellableContext child = value.withCancel();
        Context view;
        try (Scope ignored = child.attach()) {
            view = Context.current();
        }
        List<CompletionStage<Void>> stages = List.of(value.done(), child.done(), view.done());

        parent.cancel();

        stages.forEach(DoneStageTest::assertCompletedNormally);
    }

    @Test
    void doneNeverCompletesForContextsThatNeverEnd() {
        CancellableContext parent = root.withCancel();
        List<Context> neverEnding = List.of(
                Context.background(),
                Context.todo(),
                root,
                root.withValue(USER, "alice"),
                parent.withoutCancel());

        parent.cancel();
        time.advance(Duration.ofDays(365));

        for (Context ctx : neverEnding) {
            assertFalse(TestSupport.isComplete(ctx.done()), ctx.toString());
        }
    }

    @Test
    void outsidersCannotCompleteTheStageOfALiveContext() {
        CancellableContext ctx = root.withCancel();
        CompletionStage<Void> stage = ctx.done();

        tryToComplete(stage);

        assertFalse(TestSupport.isComplete(stage));
        assertFalse(TestSupport.isComplete(ctx.done()));
        assertFalse(ctx.isDone());
        ctx.cancel();
        assertCompletedNormally(stage);
    }

    @Test
    void outsidersCannotCompleteTheStageOfBackground() {
        CompletionStage<Void> stage = Context.background().done();

        tryToComplete(stage);
        tryToComplete(Context.todo().done());
        tryToComplete(root.withoutCancel().done());

        assertFalse(TestSupport.isComplete(stage));
        assertFalse(TestSupport.isComplete(Context.background().done()));
        assertFalse(TestSupport.isComplete(Context.todo().done()));
        assertFalse(TestSupport.isComplete(root.done()));
    }

    @Test
    void outsidersCannotTurnACompletedStageExceptional() {
        CancellableContext ctx = root.withCancel();
        ctx.cancel();
        CompletionStage<Void> stage = ctx.done();

        tryToComplete(stage);

        assertCompletedNormally(stage);
        assertCompletedNormally(ctx.done());
    }

    @Test
    void nonAsyncDependentsRunOnTheThreadThatEndsTheContext() {
        CancellableContext ctx = root.withCancel();
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        ctx.done().thenRun(() -> ranOn.set(Thread.currentThread()));

        ctx.cancel();

        assertSame(Thread.currentThread(), ranOn.get());
    }

    @Test
    void dependentsAddedAfterCompletionRunAtOnce() {
        CancellableContext ctx = root.withCancel();
        ctx.cancel();
        AtomicReference<Thread> ranOn = new AtomicReference<>();

        ctx.done().thenRun(() -> ranOn.set(Thread.currentThread()));

        assertSame(Thread.currentThread(), ranOn.get());
    }
}
