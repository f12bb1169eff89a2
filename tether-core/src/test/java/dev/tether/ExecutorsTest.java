package dev.tether;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * ContextExecutors.propagating: a task runs with the context current where it was submitted, and the worker's own
 * binding is back afterwards, so nothing leaks into the next task.
 */
class ExecutorsTest {

    private static final Key<String> NAME = Key.of("name");
    private static final long WAIT = TestSupport.WAIT_SECONDS;

    private final ScheduledExecutorService pool = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void currentContextIsBackgroundAgain() throws InterruptedException {
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(WAIT, TimeUnit.SECONDS));
        assertSame(Context.background(), Context.current());
    }

    /** What the single worker thread has bound right now, asked without any propagation. */
    private Context workerBinding() throws Exception {
        return pool.submit(Context::current).get(WAIT, TimeUnit.SECONDS);
    }

    @Test
    void executorRunsTheTaskWithTheSubmittersContext() throws Exception {
        Executor executor = ContextExecutors.propagating((Executor) pool);
        Context ctx = Context.background().withValue(NAME, "submitter");
        AtomicReference<Context> seen = new AtomicReference<>();
        CountDownLatch ran = new CountDownLatch(1);

        try (Scope ignored = ctx.attach()) {
            executor.execute(() -> {
                seen.set(Context.current());
                ran.countDown();
            });
        }
        TestSupport.await(ran);

        assertSame(ctx, seen.get());
        assertSame(Context.background(), workerBinding(), "nothing leaks into the next task");
    }

    @Test
    void cancellableContextIsPropagatedAsItsReadOnlyView() throws Exception {
        ExecutorService service = ContextExecutors.propagating((ExecutorService) pool);
        CancellableContext ctx = Context.background().withValue(NAME, "alice").withCancel();

        Context seen;
        try (Scope ignored = ctx.attach()) {
            seen = service.submit(Context::current).get(WAIT, TimeUnit.SECONDS);
        }
        ctx.cancel();

        assertFalse(seen instanceof CancellableContext);
        assertEquals("alice", seen.value(NAME));
        assertTrue(seen.isDone());
        assertSame(ctx.err(), seen.err());
    }

    @Test
    void workersOwnBindingIsRestoredAfterEachTask() throws Exception {
        ExecutorService service = ContextExecutors.propagating((ExecutorService) pool);
        Context workerOwn = Context.background().withValue(NAME, "worker");
        Context submitted = Context.background().withValue(NAME, "submitted");
        Scope workerScope = pool.submit(workerOwn::attach).get(WAIT, TimeUnit.SECONDS);

        Context seen;
        try (Scope ignored = submitted.attach()) {
            seen = service.submit(Context::current).get(WAIT, TimeUnit.SECONDS);
        }
        Context afterwards = workerBinding();
        pool.submit(workerScope::close).get(WAIT, TimeUnit.SECONDS);

        assertSame(submitted, seen);
        assertSame(workerOwn, afterwards);
        assertSame(Context.background(), workerBinding());
    }

    @Test
    void taskSubmittedWithNothingAttachedRunsWithBackgroundEvenOnAWorkerThatHasABinding() throws Exception {
        ExecutorService service = ContextExecutors.propagating((ExecutorService) pool);
        Scope workerScope = pool.submit(Context.background().withValue(NAME, "worker")::attach)
                .get(WAIT, TimeUnit.SECONDS);

        Context seen = service.submit(Context::current).get(WAIT, TimeUnit.SECONDS);
        pool.submit(workerScope::close).get(WAIT, TimeUnit.SECONDS);

        assertSame(Context.background(), seen);
    }

    @Test
    void contextIsCapturedAtSubmissionNotWhenTheTaskRuns() throws Exception {
        ExecutorService service = ContextExecutors.propagating((ExecutorService) pool);
        Context first = Context.background().withValue(NAME, "at submission");
        Context second = Context.background().withValue(NAME, "later");
        CountDownLatch blocker = new CountDownLatch(1);
        pool.execute(() -> {
            try {
                blocker.await(WAIT, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });

        Future<Context> seen;
        try (Scope ignored = first.attach()) {
            seen = service.submit(Context::current);
        }
        try (Scope ignored = second.attach()) {
            blocker.countDown();
            assertSame(first, seen.get(WAIT, TimeUnit.SECONDS));
        }
    }

    @Test
    void everySubmitFormPropagates() throws Exception {
        ExecutorService service = ContextExecutors.propagating((ExecutorService) pool);
        Context ctx = Context.background().withValue(NAME, "ctx");
        List<Context> seen = new CopyOnWriteArrayList<>();
        Runnable record = () -> seen.add(Context.current());
        Callable<Context> current = Context::current;

        try (Scope ignored = ctx.attach()) {
            service.submit(record).get(WAIT, TimeUnit.SECONDS);
            assertEquals("done", service.submit(record, "done").get(WAIT, TimeUnit.SECONDS));
            seen.add(service.submit(current).get(WAIT, TimeUnit.SECONDS));
            CountDownLatch executed = new CountDownLatch(1);
            service.execute(() -> {
                record.run();
                executed.countDown();
            });
            TestSupport.await(executed);
            for (Future<Context> f : service.invokeAll(List.of(current, current))) {
                seen.add(f.get());
            }
            for (Future<Context> f : service.invokeAll(List.of(current), WAIT, TimeUnit.SECONDS)) {
                seen.add(f.get());
            }
            seen.add(service.invokeAny(List.of(current)));
            seen.add(service.invokeAny(List.of(current), WAIT, TimeUnit.SECONDS));
        }

        assertEquals(9, seen.size());
        seen.forEach(c -> assertSame(ctx, c));
        assertSame(Context.background(), workerBinding());
    }

    @Test
    void taskExceptionReachesTheFutureAndTheWorkerBindingIsStillRestored() throws Exception {
        ExecutorService service = ContextExecutors.propagating((ExecutorService) pool);
        IOException failure = new IOException("backend down");

        Future<Object> future;
        try (Scope ignored = Context.background().withValue(NAME, "ctx").attach()) {
            future = service.submit(() -> {
                throw failure;
            });
        }
        ExecutionException thrown = assertThrows(ExecutionException.class, () -> future.get(WAIT, TimeUnit.SECONDS));

        assertSame(failure, thrown.getCause());
        assertSame(Context.background(), workerBinding());
    }

    @Test
    void scheduledTasksRunWithTheSchedulersContext() throws Exception {
        ScheduledExecutorService scheduled = ContextExecutors.propagating(pool);
        Context ctx = Context.background().withValue(NAME, "scheduler");
        AtomicReference<Context> fromRunnable = new AtomicReference<>();

        ScheduledFuture<Context> fromCallable;
        ScheduledFuture<?> runnable;
        try (Scope ignored = ctx.attach()) {
            fromCallable = scheduled.schedule(Context::current, 1, TimeUnit.MILLISECONDS);
            runnable = scheduled.schedule(() -> fromRunnable.set(Context.current()), 1, TimeUnit.MILLISECONDS);
        }
        runnable.get(WAIT, TimeUnit.SECONDS);

        assertSame(ctx, fromCallable.get(WAIT, TimeUnit.SECONDS));
        assertSame(ctx, fromRunnable.get());
        assertSame(Context.background(), workerBinding());
    }

    @Test
    void everyRunOfAPeriodicTaskRunsWithTheSchedulersContext() throws Exception {
        ScheduledExecutorService scheduled = ContextExecutors.propagating(pool);
        Context ctx = Context.background().withValue(NAME, "periodic");
        List<Context> atFixedRate = new CopyOnWriteArrayList<>();
        List<Context> withFixedDelay = new CopyOnWriteArrayList<>();
        CountDownLatch runs = new CountDownLatch(6);

        ScheduledFuture<?> rate;
        ScheduledFuture<?> delay;
        try (Scope ignored = ctx.attach()) {
            rate = scheduled.scheduleAtFixedRate(() -> {
                if (atFixedRate.size() < 3) {
                    atFixedRate.add(Context.current());
                    runs.countDown();
                }
            }, 0, 1, TimeUnit.MILLISECONDS);
            delay = scheduled.scheduleWithFixedDelay(() -> {
                if (withFixedDelay.size() < 3) {
                    withFixedDelay.add(Context.current());
                    runs.countDown();
                }
            }, 0, 1, TimeUnit.MILLISECONDS);
        }
        TestSupport.await(runs);
        rate.cancel(false);
        delay.cancel(false);

        assertEquals(3, atFixedRate.size());
        assertEquals(3, withFixedDelay.size());
        atFixedRate.forEach(c -> assertSame(ctx, c));
        withFixedDelay.forEach(c -> assertSame(ctx, c));
        assertSame(Context.background(), workerBinding());
    }

    @Test
    void directExecutorRunsOnTheCallingThreadAndLeavesItsBindingAlone() {
        Executor direct = ContextExecutors.propagating((Executor) Runnable::run);
        Context ctx = Context.background().withValue(NAME, "caller");
        AtomicReference<Context> seen = new AtomicReference<>();

        try (Scope ignored = ctx.attach()) {
            direct.execute(() -> seen.set(Context.current()));
            assertSame(ctx, Context.current());
        }

        assertSame(ctx, seen.get());
    }

    @Test
    void lifecycleCallsReachTheWrappedService() throws Exception {
        ExecutorService inner = Executors.newSingleThreadExecutor();
        ExecutorService service = ContextExecutors.propagating(inner);

        service.shutdown();

        assertTrue(inner.isShutdown());
        assertTrue(service.isShutdown());
        assertTrue(service.awaitTermination(WAIT, TimeUnit.SECONDS));
        assertTrue(service.isTerminated());
        assertInstanceOf(List.class, service.shutdownNow());
    }
}
