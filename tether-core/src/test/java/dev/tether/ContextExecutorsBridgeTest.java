package dev.tether;

import static org.junit.jupiter.api.Assertions.*;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The bridges between contexts and the JDK's futures, thread factories and executors. */
@Timeout(30)
@SuppressWarnings("try") // scopes and groups opened for their effect, closed explicitly to test close
class ContextExecutorsBridgeTest {

    @AfterEach
    void currentContextIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
    }

    @Test
    void bind_contextEndingCompletesTheFutureWithItsErr() {
        CancellableContext ctx = Context.background().withCancel();
        CompletableFuture<String> future = ContextExecutors.bind(ctx, new CompletableFuture<>());
        RuntimeException why = new RuntimeException("why");

        ctx.cancel(why);

        assertTrue(future.isCancelled());
        CancellationException e = assertThrows(CancellationException.class, future::get);
        // CompletableFuture.get() throws the err itself up to JDK 22, and a wrapper caused by it since JDK 23
        assertSame(ctx.err(), e instanceof ContextDoneException ? e : e.getCause());
        assertSame(why, ctx.err().getCause());
        CancellationException joined = assertThrows(CancellationException.class, future::join);
        assertSame(ctx.err(), joined instanceof ContextDoneException ? joined : joined.getCause());
    }

    @Test
    void bind_thenAwaitOnTheSameContext_throwsTheErrItself_whicheverSignalComesFirst() throws Exception {
        for (Threads.Kind kind : Threads.Kind.values()) {
            CancellableContext ctx = Context.background().withCancel();
            CompletableFuture<String> future = ContextExecutors.bind(ctx, new CompletableFuture<>());
            Threads.Worker worker = new Threads.Worker(kind, () -> Blocking.await(ctx, future));
            Threads.awaitBlocked(worker.thread);

            ctx.cancel(new RuntimeException("why"));

            Threads.Outcome outcome = worker.await();
            assertSame(ctx.err(), outcome.thrown());
            assertFalse(outcome.interruptedAfter());
        }
    }

    @Test
    void bind_onADoneContextCompletesAtOnce_andAFutureThatCompletesFirstReleasesTheTie() {
        CancellableContext done = Context.background().withCancel();
        done.cancel();
        assertTrue(ContextExecutors.bind(done, new CompletableFuture<String>()).isCancelled());

        try (CancellableContext live = Context.background().withCancel()) {
            CompletableFuture<String> future = ContextExecutors.bind(live, new CompletableFuture<>());
            assertEquals(1, ((CancelContext) live).childCount());
            future.complete("value");
            assertEquals(0, ((CancelContext) live).childCount(), "the context must not keep a finished future");
            live.cancel();
            assertEquals("value", future.join());
        }
    }

    @Test
    void cancelledOnCompletion_theFutureEndingCancelsTheContext_withItsFailureAsCause() {
        CompletableFuture<String> cancelledByConsumer = new CompletableFuture<>();
        CompletableFuture<String> failed = new CompletableFuture<>();
        CompletableFuture<String> succeeded = new CompletableFuture<>();
        CancellableContext a = ContextExecutors.cancelledOnCompletion(Context.background(), cancelledByConsumer);
        CancellableContext b = ContextExecutors.cancelledOnCompletion(Context.background(), failed.thenApply(s -> s));
        CancellableContext c = ContextExecutors.cancelledOnCompletion(Context.background(), succeeded);
        assertFalse(a.isDone() || b.isDone() || c.isDone());
        RuntimeException boom = new RuntimeException("boom");

        cancelledByConsumer.cancel(true);
        failed.completeExceptionally(boom);
        succeeded.complete("x");

        assertInstanceOf(CancellationException.class, a.cause());
        assertSame(boom, b.cause(), "unwrapped from CompletionException");
        assertInstanceOf(ContextCancelledException.class, c.err());
        assertSame(c.err(), c.cause());
    }

    @Test
    void propagatingThreadFactory_andStartVirtualThread_startInTheCallersContext() throws Exception {
        Key<String> user = Key.of("user");
        Context ctx = Context.background().withValue(user, "alice");
        ThreadFactory factory = ContextExecutors.propagatingThreadFactory(Thread.ofVirtual().factory());
        CompletableFuture<String> viaFactory = new CompletableFuture<>();
        CompletableFuture<String> viaStart = new CompletableFuture<>();

        Thread t1;
        Thread t2;
        try (Scope ignored = ctx.attach()) {
            t1 = factory.newThread(() -> viaFactory.complete(Context.current().value(user)));
            t2 = ContextExecutors.startVirtualThread(() -> viaStart.complete(Context.current().value(user)));
        }
        t1.start();

        assertEquals("alice", viaFactory.get(10, TimeUnit.SECONDS));
        assertEquals("alice", viaStart.get(10, TimeUnit.SECONDS));
        t1.join();
        t2.join();
    }

    @Test
    void cancelling_refusesWorkForADoneContext() {
        ExecutorService executor = ContextExecutors.cancelling(Executors.newSingleThreadExecutor());
        try {
            CancellableContext ctx = Context.background().withCancel();
            ctx.cancel(new RuntimeException("late"));
            try (Scope ignored = ctx.attach()) {
                RejectedExecutionException e =
                        assertThrows(RejectedExecutionException.class, () -> executor.submit(() -> "x"));
                assertSame(ctx.err(), e.getCause());
                assertThrows(RejectedExecutionException.class, () -> executor.execute(() -> { }));
            }
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void cancelling_contextEnding_interruptsTheRunningTask_andCancelsTheQueuedOne() throws Exception {
        ExecutorService executor = ContextExecutors.cancelling(Executors.newSingleThreadExecutor());
        try {
            CancellableContext ctx = Context.background().withCancel();
            CountDownLatch running = new CountDownLatch(1);
            AtomicBoolean queuedRan = new AtomicBoolean();
            CompletableFuture<Throwable> seenByTask = new CompletableFuture<>();
            Future<String> first;
            Future<Boolean> queued;
            try (Scope ignored = ctx.attach()) {
                first = executor.submit(() -> {
                    running.countDown();
                    try {
                        return new LinkedBlockingQueue<String>().take();
                    } catch (InterruptedException e) {
                        seenByTask.complete(e);
                        throw e;
                    }
                });
                queued = executor.submit(() -> queuedRan.getAndSet(true));
            }
            running.await();
            RuntimeException why = new RuntimeException("deadline of the caller");

            ctx.cancel(why);

            assertTrue(first.isCancelled());
            CancellationException e = assertThrows(CancellationException.class, first::get);
            assertSame(ctx.err(), e);
            assertSame(why, e.getCause());
            assertInstanceOf(InterruptedException.class, seenByTask.get(10, TimeUnit.SECONDS));
            assertTrue(queued.isCancelled());
            // the executor's next task runs normally and sees neither the interrupt nor the old context
            Future<Boolean> next = executor.submit(() -> Thread.currentThread().isInterrupted()
                    || Context.current() != Context.background());
            assertFalse(next.get(10, TimeUnit.SECONDS));
            assertFalse(queuedRan.get());
            assertEquals(0, ((CancelContext) ctx).childCount());
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void cancelling_runsTasksInTheSubmittersContext_andReleasesItsRegistrationAfterwards() throws Exception {
        Key<String> user = Key.of("user");
        ExecutorService executor = ContextExecutors.cancelling(Executors.newSingleThreadExecutor());
        try (CancellableContext ctx = Context.background().withValue(user, "bob").withCancel()) {
            Future<String> future;
            try (Scope ignored = ctx.attach()) {
                future = executor.submit(() -> Context.current().value(user));
                assertEquals(java.util.List.of("bob", "bob"), executor.invokeAll(java.util.List.of(
                        () -> Context.current().value(user), () -> Context.current().value(user))).stream()
                        .map(f -> {
                            try {
                                return f.get();
                            } catch (InterruptedException | ExecutionException e) {
                                throw new AssertionError(e);
                            }
                        }).toList());
            }

            assertEquals("bob", future.get(10, TimeUnit.SECONDS));
            assertEquals(0, ((CancelContext) ctx).childCount(), "finished tasks are unregistered");
        } finally {
            executor.shutdownNow();
        }
    }
}
