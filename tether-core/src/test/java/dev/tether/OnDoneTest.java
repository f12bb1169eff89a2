package dev.tether;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Go's AfterFunc as onDone: runs once, after done, asynchronously by default; stop() semantics. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class OnDoneTest {

    private static final Key<String> USER = Key.of("user");

    @AfterEach
    void currentContextIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
    }

    /** An executor that only records what it was given, so a test can see whether and when an action was handed off. */
    private static final class RecordingExecutor implements Executor {
        final List<Runnable> tasks = new CopyOnWriteArrayList<>();

        @Override
        public void execute(Runnable task) {
            tasks.add(task);
        }
    }

    @Test
    void actionRunsAfterCancelOnAThreadThatIsNotTheCancellers() throws Exception {
        CancellableContext ctx = Context.background().withCancel();
        CompletableFuture<Thread> ranOn = new CompletableFuture<>();
        ctx.onDone(() -> ranOn.complete(Thread.currentThread()));

        ctx.cancel();

        Thread thread = TestSupport.await(ranOn);
        assertNotSame(Thread.currentThread(), thread);
        assertTrue(thread.isVirtual(), "the default executor starts a virtual thread");
    }

    @Test
    void actionIsNotHandedOffBeforeTheContextIsDone() {
        CancellableContext ctx = Context.background().withCancel();
        RecordingExecutor executor = new RecordingExecutor();
        ctx.onDone(() -> { }, executor);

        int before = executor.tasks.size();
        ctx.cancel();

        assertEquals(0, before);
        assertEquals(1, executor.tasks.size());
    }

    @Test
    void actionRunsAsynchronouslySoCancelReturnsWhileItIsStillRunning() throws Exception {
        CancellableContext ctx = Context.background().withCancel();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch finished = new CountDownLatch(1);
        ctx.onDone(() -> {
            try {
                release.await(TestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            finished.countDown();
        });

        ctx.cancel();

        assertEquals(1, finished.getCount(), "cancel() returned while the action was still blocked");
        release.countDown();
        TestSupport.await(finished);
    }

    @Test
    void actionRunsExactlyOnce() {
        CancellableContext parent = Context.background().withCancel();
        CancellableContext ctx = parent.withCancel();
        AtomicInteger runs = new AtomicInteger();
        ctx.onDone(runs::incrementAndGet, Runnable::run);

        ctx.cancel();
        ctx.cancel();
        ctx.cancel(new RuntimeException("again"));
        parent.cancel();

        assertEquals(1, runs.get());
    }

    @Test
    void actionRunsOnceWhenTheDeadlinePassesAfterACancel() {
        ManualTimeSource time = ManualTimeSource.create();
        CancellableContext ctx = Context.root(time).withTimeout(Duration.ofSeconds(1));
        AtomicInteger runs = new AtomicInteger();
        ctx.onDone(runs::incrementAndGet, Runnable::run);

        ctx.cancel();
        time.advance(Duration.ofSeconds(2));

        assertEquals(1, runs.get());
    }

    @Test
    void directExecutorRunsTheActionOnTheCancellingThreadBeforeCancelReturns() {
        CancellableContext ctx = Context.background().withCancel();
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        ctx.onDone(() -> ranOn.set(Thread.currentThread()), Runnable::run);

        ctx.cancel();

        assertSame(Thread.currentThread(), ranOn.get());
    }

    @Test
    void directExecutorRunsTheActionOnTheThreadThatCancelsAnAncestor() throws Exception {
        CancellableContext parent = Context.background().withCancel();
        Context child = parent.withValue(USER, "alice").withCancel();
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        child.onDone(() -> ranOn.set(Thread.currentThread()), Runnable::run);

        Thread canceller = TestSupport.onNewPlatformThread(() -> {
            parent.cancel();
            return Thread.currentThread();
        });

        assertSame(canceller, ranOn.get());
    }

    @Test
    void onDoneOfAContextThatIsAlreadyDoneRunsTheActionAsynchronously() throws Exception {
        CancellableContext ctx = Context.background().withCancel();
        ctx.cancel();
        CompletableFuture<Thread> ranOn = new CompletableFuture<>();

        ctx.onDone(() -> ranOn.complete(Thread.currentThread()));

        assertNotSame(Thread.currentThread(), TestSupport.await(ranOn));
    }

    @Test
    void onDoneOfAContextThatIsAlreadyDoneWithDirectExecutorRunsBeforeReturning() {
        CancellableContext ctx = Context.background().withCancel();
        ctx.cancel();
        AtomicInteger runs = new AtomicInteger();

        Registration registration = ctx.onDone(runs::incrementAndGet, Runnable::run);

        assertEquals(1, runs.get());
        assertFalse(registration.stop(), "it already ran");
    }

    @Test
    void stopOnAContextThatIsAlreadyDoneReturnsFalse() {
        CancellableContext ctx = Context.background().withCancel();
        ctx.cancel();
        RecordingExecutor executor = new RecordingExecutor();

        Registration registration = ctx.onDone(() -> { }, executor);

        assertFalse(registration.stop());
        assertEquals(1, executor.tasks.size());
    }

    @Test
    void stopBeforeDoneReturnsTrueOnceAndTheActionNeverRuns() {
        CancellableContext ctx = Context.background().withCancel();
        AtomicInteger runs = new AtomicInteger();
        RecordingExecutor executor = new RecordingExecutor();
        Registration direct = ctx.onDone(runs::incrementAndGet, Runnable::run);
        Registration handedOff = ctx.onDone(runs::incrementAndGet, executor);

        boolean firstStop = direct.stop();
        boolean secondStop = direct.stop();
        boolean handedOffStop = handedOff.stop();
        ctx.cancel();

        assertTrue(firstStop);
        assertFalse(secondStop);
        assertTrue(handedOffStop);
        assertEquals(0, runs.get());
        assertEquals(0, executor.tasks.size());
        assertFalse(direct.stop());
    }

    @Test
    void stopAfterTheActionRanReturnsFalse() {
        CancellableContext ctx = Context.background().withCancel();
        Registration registration = ctx.onDone(() -> { }, Runnable::run);

        ctx.cancel();

        assertFalse(registration.stop());
    }

    @Test
    void stopAfterTheActionWasHandedOffReturnsFalse() throws Exception {
        CancellableContext ctx = Context.background().withCancel();
        CountDownLatch ran = new CountDownLatch(1);
        Registration registration = ctx.onDone(ran::countDown);

        ctx.cancel();

        assertFalse(registration.stop(), "the action was started by cancel()");
        TestSupport.await(ran);
    }

    @Test
    void stopOnAContextThatNeverEndsReturnsTrueOnce() {
        CancellableContext cancelled = Context.background().withCancel();
        cancelled.cancel();
        List<Context> neverEnding = List.of(
                Context.background(),
                Context.todo(),
                Context.root(ManualTimeSource.create()),
                Context.background().withValue(USER, "alice"),
                cancelled.withoutCancel());

        for (Context ctx : neverEnding) {
            Registration byDefault = ctx.onDone(() -> { });
            Registration direct = ctx.onDone(() -> { }, Runnable::run);

            assertTrue(byDefault.stop(), ctx.toString());
            assertFalse(byDefault.stop(), ctx.toString());
            assertTrue(direct.stop(), ctx.toString());
            assertFalse(direct.stop(), ctx.toString());
        }
    }

    @Test
    void stopUnlinksTheActionFromTheContext() {
        CancelContext ctx = (CancelContext) Context.background().withCancel();
        Registration first = ctx.onDone(() -> { }, Runnable::run);
        Registration second = ctx.withValue(USER, "alice").onDone(() -> { }, Runnable::run);
        assertEquals(2, ctx.childCount());

        first.stop();
        second.stop();

        assertEquals(0, ctx.childCount());
        ctx.cancel();
    }

    @Test
    void actionOnChildRunsWhenParentIsCancelled() {
        CancellableContext parent = Context.background().withCancel();
        CancellableContext child = parent.withCancel();
        AtomicInteger runs = new AtomicInteger();
        child.onDone(runs::incrementAndGet, Runnable::run);

        parent.cancel();

        assertEquals(1, runs.get());
    }

    @Test
    void actionOnValueContextOrViewRunsWhenItsContextIsCancelled() {
        CancellableContext ctx = Context.background().withCancel();
        Context view;
        try (Scope ignored = ctx.attach()) {
            view = Context.current();
        }
        AtomicInteger runs = new AtomicInteger();
        ctx.withValue(USER, "alice").onDone(runs::incrementAndGet, Runnable::run);
        view.onDone(runs::incrementAndGet, Runnable::run);

        ctx.cancel();

        assertEquals(2, runs.get());
    }

    @Test
    void actionRunsWhenTheDeadlinePasses() throws Exception {
        ManualTimeSource time = ManualTimeSource.create();
        CancellableContext ctx = Context.root(time).withTimeout(Duration.ofSeconds(1));
        CompletableFuture<ContextDoneException> seen = new CompletableFuture<>();
        ctx.onDone(() -> seen.complete(ctx.err()));

        time.advance(Duration.ofSeconds(1));

        assertInstanceOf(DeadlineExceededException.class, TestSupport.await(seen));
        assertEquals(0, time.pendingTimers());
    }

    @Test
    void actionRegisteredAfterTheDeadlinePassedUnobservedRunsAtOnceWithoutATimer() {
        ManualTimeSource time = ManualTimeSource.create();
        CancellableContext ctx = Context.root(time).withTimeout(Duration.ofSeconds(1));
        time.advance(Duration.ofSeconds(1));
        AtomicInteger runs = new AtomicInteger();

        ctx.onDone(runs::incrementAndGet, Runnable::run);

        assertEquals(1, runs.get());
        assertEquals(0, time.pendingTimers());
    }

    @Test
    void actionsOnOneContextAreIndependent() {
        CancellableContext ctx = Context.background().withCancel();
        List<String> ran = new ArrayList<>();
        ctx.onDone(() -> ran.add("a"), Runnable::run);
        Registration b = ctx.onDone(() -> ran.add("b"), Runnable::run);
        ctx.onDone(() -> ran.add("c"), Runnable::run);

        b.stop();
        ctx.cancel();

        assertEquals(2, ran.size());
        assertTrue(ran.containsAll(List.of("a", "c")));
    }

    @Test
    void everyOneOfManyActionsRunsOnce() {
        CancellableContext ctx = Context.background().withCancel();
        int[] runs = new int[1000];
        for (int i = 0; i < runs.length; i++) {
            int index = i;
            ctx.onDone(() -> runs[index]++, Runnable::run);
        }

        ctx.cancel();

        for (int i = 0; i < runs.length; i++) {
            assertEquals(1, runs[i], "action " + i);
        }
    }

    @Test
    void actionSeesItsContextDone() throws Exception {
        CancellableContext ctx = Context.background().withCancel();
        AtomicReference<ContextDoneException> direct = new AtomicReference<>();
        CompletableFuture<ContextDoneException> async = new CompletableFuture<>();
        ctx.onDone(() -> direct.set(ctx.err()), Runnable::run);
        ctx.onDone(() -> async.complete(ctx.err()));

        ctx.cancel();

        assertNotNull(direct.get());
        assertSame(ctx.err(), direct.get());
        assertSame(ctx.err(), TestSupport.await(async));
    }

    @Test
    void throwingActionDoesNotStopTheRestOfTheCancellation() {
        CancellableContext ctx = Context.background().withCancel();
        CancellableContext child = ctx.withCancel();
        AtomicInteger runs = new AtomicInteger();
        RuntimeException failure = new RuntimeException("action failed");
        List<Throwable> reported = new CopyOnWriteArrayList<>();
        ctx.onDone(() -> {
            throw failure;
        }, Runnable::run);
        ctx.onDone(runs::incrementAndGet, Runnable::run);
        child.onDone(runs::incrementAndGet, Runnable::run);
        Thread thread = Thread.currentThread();
        Thread.UncaughtExceptionHandler previous = thread.getUncaughtExceptionHandler();
        thread.setUncaughtExceptionHandler((t, e) -> reported.add(e));

        boolean cancelled;
        try {
            cancelled = assertDoesNotThrow(() -> ctx.cancel());
        } finally {
            thread.setUncaughtExceptionHandler(previous == thread.getThreadGroup() ? null : previous);
        }

        assertTrue(cancelled);
        assertEquals(2, runs.get());
        assertTrue(child.isDone());
        assertEquals(List.of(failure), reported);
    }

    @Test
    void rejectingExecutorDoesNotStopTheRestOfTheCancellation() {
        CancellableContext ctx = Context.background().withCancel();
        CancellableContext child = ctx.withCancel();
        AtomicInteger runs = new AtomicInteger();
        List<Throwable> reported = new CopyOnWriteArrayList<>();
        ctx.onDone(runs::incrementAndGet, task -> {
            throw new RejectedExecutionException("full");
        });
        child.onDone(runs::incrementAndGet, Runnable::run);
        Thread thread = Thread.currentThread();
        Thread.UncaughtExceptionHandler previous = thread.getUncaughtExceptionHandler();
        thread.setUncaughtExceptionHandler((t, e) -> reported.add(e));

        boolean cancelled;
        try {
            cancelled = assertDoesNotThrow(() -> ctx.cancel());
        } finally {
            thread.setUncaughtExceptionHandler(previous == thread.getThreadGroup() ? null : previous);
        }

        assertTrue(cancelled);
        assertEquals(1, runs.get());
        assertTrue(child.isDone());
        assertEquals(1, reported.size());
        assertInstanceOf(RejectedExecutionException.class, reported.get(0));
    }

    @Test
    void actionThatCancelsItsOwnAncestorsAndSiblingsDoesNotDeadlock() {
        CancellableContext parent = Context.background().withCancel();
        CancellableContext child = parent.withCancel();
        CancellableContext sibling = parent.withCancel();
        CancellableContext unrelated = Context.background().withCancel();
        child.onDone(() -> {
            parent.cancel();
            unrelated.cancel();
        }, Runnable::run);

        child.cancel();

        assertTrue(parent.isDone());
        assertTrue(sibling.isDone());
        assertTrue(unrelated.isDone());
        assertSame(parent.err(), sibling.err());
    }

    @Test
    void actionOnParentThatCancelsTheChildDuringPropagationDoesNotDeadlock() {
        CancellableContext parent = Context.background().withCancel();
        CancellableContext child = parent.withCancel();
        AtomicInteger childRuns = new AtomicInteger();
        child.onDone(childRuns::incrementAndGet, Runnable::run);
        parent.onDone(child::cancel, Runnable::run);

        parent.cancel();

        assertTrue(child.isDone());
        assertEquals(1, childRuns.get());
    }

    @Test
    void onDoneCalledInsideAnActionOfTheSameContextRunsAtOnce() {
        CancellableContext ctx = Context.background().withCancel();
        AtomicInteger runs = new AtomicInteger();
        ctx.onDone(() -> ctx.onDone(runs::incrementAndGet, Runnable::run), Runnable::run);

        ctx.cancel();

        assertEquals(1, runs.get());
    }

    @Test
    void runningAnActionReleasesItFromTheContext() {
        CancelContext ctx = (CancelContext) Context.background().withCancel();
        ctx.onDone(() -> { }, Runnable::run);

        ctx.cancel();

        assertEquals(0, ctx.childCount());
    }
}
