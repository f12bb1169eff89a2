package dev.tether;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RunnableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * Executors that carry the submitting thread's {@link Context#current()} to the task: each task runs with the
 * context that was current when it was submitted, then the worker's previous binding is restored, so nothing
 * leaks into the next task on a pooled thread. Go passes the context as an argument; in Java, wrapping the
 * executor once keeps every {@code submit} in the chain.
 *
 * <p>Beyond propagation, the bridges between contexts and the JDK's concurrency types live here:
 * {@link #cancelling(ExecutorService)} (an executor whose tasks end with their context),
 * {@link #bind(Context, CompletableFuture)} and {@link #cancelledOnCompletion(Context, CompletionStage)} (a
 * future and a context that end together), and {@link #propagatingThreadFactory(ThreadFactory)} and
 * {@link #startVirtualThread(Runnable)} (new threads that start in the caller's context).
 */
public final class ContextExecutors {

    private ContextExecutors() {}

    /** An executor that runs each task with the context current at {@code execute}. */
    public static Executor propagating(Executor executor) {
        Objects.requireNonNull(executor, "executor must not be null");
        return task -> executor.execute(Context.current().wrap(Objects.requireNonNull(task, "task must not be null")));
    }

    /** An executor service that runs each task with the context current at submission. */
    public static ExecutorService propagating(ExecutorService executor) {
        return new PropagatingExecutorService<>(Objects.requireNonNull(executor, "executor must not be null"));
    }

    /** A scheduled executor service that runs each task, also each periodic run, with the context current at scheduling. */
    public static ScheduledExecutorService propagating(ScheduledExecutorService executor) {
        return new PropagatingScheduledExecutorService(Objects.requireNonNull(executor, "executor must not be null"));
    }

    /**
     * An executor service whose tasks are tied to the context current at submission: the task runs with that
     * context bound; a context that is already done is refused ({@link RejectedExecutionException}, with the
     * context's err as cause); and when the context ends, the task's {@link Future} is completed with the
     * context's err (so {@code isCancelled()} is true and {@code get()} throws that very err, its cause attached), a
     * task not yet started never starts, and a running task is interrupted.
     *
     * <p>The interrupt reaches the task's thread only while the task runs, and is cleared before the thread runs
     * anything else, so no stray interrupt reaches the next task of a pool; the same holds for
     * {@code cancel(true)}. A task's own exception from {@code execute} goes to the thread's uncaught-exception
     * handler, as with the delegate; one from {@code submit} goes into its Future. Shutting down this service
     * shuts down the delegate.
     */
    public static ExecutorService cancelling(ExecutorService executor) {
        return new CancellingExecutorService(Objects.requireNonNull(executor, "executor must not be null"));
    }

    /**
     * Ties {@code future} to {@code ctx}: when the context is done before the future completes, the future is
     * completed exceptionally with the context's err, a {@link java.util.concurrent.CancellationException}, so
     * {@code isCancelled()} is true and {@code get()} and {@code join()} throw the err (since JDK 23,
     * CompletableFuture wraps it: the CancellationException they throw has the err as its cause). Completes it at
     * once if the
     * context is already done. Returns {@code future}; the tie is removed when the future completes. The work
     * behind the future is not interrupted by this; for that, run it on {@link #cancelling(ExecutorService)}.
     */
    public static <T> CompletableFuture<T> bind(Context ctx, CompletableFuture<T> future) {
        Objects.requireNonNull(ctx, "ctx must not be null");
        Objects.requireNonNull(future, "future must not be null");
        Registration registration = ctx.onDone(
                () -> future.completeExceptionally(Objects.requireNonNull(ctx.err())), Runnable::run);
        future.whenComplete((value, failure) -> registration.stop());
        return future;
    }

    /**
     * The other way round from {@link #bind}: a child of {@code parent} that is cancelled when {@code stage}
     * completes, in any way, because nothing needs the work for it any more. A stage that completes exceptionally
     * (cancelled by its consumer, say) gives its exception, unwrapped from {@link CompletionException}, as the
     * context's {@link Context#cause()}. Close the child as any other when its work ends first; until the stage
     * completes, the stage keeps a reference to it.
     */
    public static CancellableContext cancelledOnCompletion(Context parent, CompletionStage<?> stage) {
        Objects.requireNonNull(parent, "parent must not be null");
        Objects.requireNonNull(stage, "stage must not be null");
        CancellableContext child = parent.withCancel();
        stage.whenComplete((value, failure) -> child.cancel(
                failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure));
        return child;
    }

    /**
     * A thread factory whose threads run with the context that was current on the thread that called
     * {@code newThread}. Meant for thread-per-task use ({@link Executors#newThreadPerTaskExecutor},
     * {@link TaskGroup#open(Context, TaskGroup.Policy, ThreadFactory)}); do not give it to a pool, whose threads
     * outlive the request that happened to create them: wrap the pool with {@link #propagating(ExecutorService)}
     * instead, e.g. {@code propagatingThreadFactory(Thread.ofVirtual().factory())}.
     */
    public static ThreadFactory propagatingThreadFactory(ThreadFactory factory) {
        Objects.requireNonNull(factory, "factory must not be null");
        return new ThreadFactory() {
            @Override
            public @Nullable Thread newThread(Runnable task) {
                return factory.newThread(Context.current().wrap(Objects.requireNonNull(task, "task must not be null")));
            }

            @Override
            public String toString() {
                return "ContextPropagating[" + factory + "]";
            }
        };
    }

    /** Like {@link Thread#startVirtualThread}, with the caller's current context bound in the new thread. */
    public static Thread startVirtualThread(Runnable task) {
        return Thread.startVirtualThread(Context.current().wrap(Objects.requireNonNull(task, "task must not be null")));
    }

    private static <T> List<Callable<T>> wrapAll(Collection<? extends Callable<T>> tasks) {
        Context context = Context.current();
        List<Callable<T>> wrapped = new ArrayList<>(tasks.size());
        for (Callable<T> task : tasks) {
            wrapped.add(context.wrap(Objects.requireNonNull(task, "task must not be null")));
        }
        return wrapped;
    }

    /** An executor service that hands its lifecycle to another; subclasses decide how tasks get there. */
    private abstract static class Forwarding<E extends ExecutorService> extends AbstractExecutorService {
        final E delegate;

        Forwarding(E delegate) {
            this.delegate = delegate;
        }

        @Override
        public void shutdown() {
            delegate.shutdown();
        }

        @Override
        public List<Runnable> shutdownNow() {
            return delegate.shutdownNow();
        }

        @Override
        public boolean isShutdown() {
            return delegate.isShutdown();
        }

        @Override
        public boolean isTerminated() {
            return delegate.isTerminated();
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
            return delegate.awaitTermination(timeout, unit);
        }
    }

    private static class PropagatingExecutorService<E extends ExecutorService> extends Forwarding<E> {

        PropagatingExecutorService(E delegate) {
            super(delegate);
        }

        static Runnable wrap(Runnable task) {
            return Context.current().wrap(Objects.requireNonNull(task, "task must not be null"));
        }

        static <T> Callable<T> wrap(Callable<T> task) {
            return Context.current().wrap(Objects.requireNonNull(task, "task must not be null"));
        }

        @Override
        public void execute(Runnable task) {
            delegate.execute(wrap(task));
        }

        @Override
        public <T> Future<T> submit(Callable<T> task) {
            return delegate.submit(wrap(task));
        }

        @Override
        public <T> Future<T> submit(Runnable task, T result) {
            return delegate.submit(wrap(task), result);
        }

        @Override
        public Future<?> submit(Runnable task) {
            return delegate.submit(wrap(task));
        }

        @Override
        public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks) throws InterruptedException {
            return delegate.invokeAll(wrapAll(tasks));
        }

        @Override
        public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
                throws InterruptedException {
            return delegate.invokeAll(wrapAll(tasks), timeout, unit);
        }

        @Override
        public <T> T invokeAny(Collection<? extends Callable<T>> tasks)
                throws InterruptedException, ExecutionException {
            return delegate.invokeAny(wrapAll(tasks));
        }

        @Override
        public <T> T invokeAny(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
                throws InterruptedException, ExecutionException, TimeoutException {
            return delegate.invokeAny(wrapAll(tasks), timeout, unit);
        }

        @Override
        public String toString() {
            return "ContextPropagating[" + delegate + "]";
        }
    }

    private static final class PropagatingScheduledExecutorService
            extends PropagatingExecutorService<ScheduledExecutorService> implements ScheduledExecutorService {

        PropagatingScheduledExecutorService(ScheduledExecutorService delegate) {
            super(delegate);
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable task, long delay, TimeUnit unit) {
            return delegate.schedule(wrap(task), delay, unit);
        }

        @Override
        public <V> ScheduledFuture<V> schedule(Callable<V> task, long delay, TimeUnit unit) {
            return delegate.schedule(wrap(task), delay, unit);
        }

        @Override
        public ScheduledFuture<?> scheduleAtFixedRate(Runnable task, long initialDelay, long period, TimeUnit unit) {
            return delegate.scheduleAtFixedRate(wrap(task), initialDelay, period, unit);
        }

        @Override
        public ScheduledFuture<?> scheduleWithFixedDelay(Runnable task, long initialDelay, long delay, TimeUnit unit) {
            return delegate.scheduleWithFixedDelay(wrap(task), initialDelay, delay, unit);
        }
    }

    private static final class CancellingExecutorService extends Forwarding<ExecutorService> {

        CancellingExecutorService(ExecutorService delegate) {
            super(delegate);
        }

        @Override
        protected <T> RunnableFuture<T> newTaskFor(Callable<T> task) {
            return ContextTask.create(Context.current(), task, false);
        }

        @Override
        protected <T> RunnableFuture<T> newTaskFor(Runnable task, T value) {
            return ContextTask.create(Context.current(), Executors.callable(task, value), false);
        }

        @Override
        public void execute(Runnable task) {
            Objects.requireNonNull(task, "task must not be null");
            ContextTask<?> contextTask = task instanceof ContextTask<?> t
                    ? t
                    : ContextTask.create(Context.current(), Executors.callable(task), true);
            try {
                delegate.execute(contextTask);
            } catch (RuntimeException | Error e) {
                contextTask.abandon();
                throw e;
            }
        }

        @Override
        public String toString() {
            return "ContextCancelling[" + delegate + "]";
        }
    }

    /**
     * A task of {@link #cancelling}: a {@code FutureTask} whose cancellation is its context's.
     *
     * <p>Implementation overview. The outcome lives in a CompletableFuture, completed once by whoever comes
     * first: the task (value or exception), {@code cancel}, or the context's onDone action (with its err). The
     * {@link InterruptGuard} decides whether the task may still start and confines the interrupt of a
     * cancellation to the task's run: disarm() clears it before run() returns. The onDone registration is
     * removed when the task ends, so a long-lived context retains no finished tasks.
     */
    static final class ContextTask<T> implements RunnableFuture<T> {
        private final Context ctx;
        private final Callable<T> callable;
        /** Whether the task came from execute(): its exception then goes to the uncaught-exception handler. */
        private final boolean reportFailure;
        private final CompletableFuture<T> result = new CompletableFuture<>();
        private final InterruptGuard guard = new InterruptGuard();
        /** Written once by create() before the task is handed to any executor; read by the running thread. */
        private Registration registration = () -> false;

        private ContextTask(Context ctx, Callable<T> callable, boolean reportFailure) {
            this.ctx = ctx;
            this.callable = callable;
            this.reportFailure = reportFailure;
        }

        static <T> ContextTask<T> create(Context ctx, Callable<T> callable, boolean reportFailure) {
            Objects.requireNonNull(callable, "task must not be null");
            ContextDoneException err = ctx.err();
            if (err != null) {
                throw new RejectedExecutionException("context is done, so no new work is accepted for it: " + ctx, err);
            }
            ContextTask<T> task = new ContextTask<>(ctx, callable, reportFailure);
            task.registration = ctx.onDone(task::contextEnded, Runnable::run);
            return task;
        }

        private void contextEnded() {
            if (result.completeExceptionally(Objects.requireNonNull(ctx.err()))) {
                guard.fire();
            }
        }

        /** The delegate refused the task: it will never run, and the context need not keep it. */
        void abandon() {
            registration.stop();
            guard.fire();
        }

        @Override
        public void run() {
            if (result.isDone() || !guard.arm()) {
                registration.stop();
                return;
            }
            Throwable failure = null;
            T value = null;
            try {
                value = ctx.call(callable);
            } catch (Throwable t) {
                failure = t;
            } finally {
                guard.disarm(); // no interrupt of ours outlives the task
                registration.stop(); // before completing: whoever sees the result sees the context released
            }
            if (failure == null) {
                result.complete(value);
            } else {
                result.completeExceptionally(failure);
            }
            if (reportFailure && failure != null && !result.isCancelled()) {
                if (failure instanceof RuntimeException e) {
                    throw e;
                }
                if (failure instanceof Error e) {
                    throw e;
                }
                throw new CompletionException(failure);
            }
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean cancelled = result.cancel(false);
            if (cancelled) {
                registration.stop();
                if (mayInterruptIfRunning) {
                    guard.fire();
                }
            }
            return cancelled;
        }

        @Override
        public boolean isCancelled() {
            return result.isCancelled();
        }

        @Override
        public boolean isDone() {
            return result.isDone();
        }

        @Override
        public T get() throws InterruptedException, ExecutionException {
            try {
                return result.get();
            } catch (java.util.concurrent.CancellationException e) {
                throw contextErrOr(e);
            }
        }

        @Override
        public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
            try {
                return result.get(timeout, unit);
            } catch (java.util.concurrent.CancellationException e) {
                throw contextErrOr(e);
            }
        }

        /**
         * The context's err when it is what cancelled the task: since JDK 23 CompletableFuture.get() wraps a
         * cancellation in a new CancellationException, and callers should see the same err on every JDK.
         */
        private java.util.concurrent.CancellationException contextErrOr(java.util.concurrent.CancellationException e) {
            Throwable cause = e.getCause();
            return e instanceof ContextDoneException ? e
                    : cause instanceof ContextDoneException done && done == ctx.err() ? done : e;
        }

        @Override
        public String toString() {
            return "ContextTask[" + (result.isDone() ? "done" : guard.interrupted() ? "interrupted" : "pending")
                    + ", " + callable + " in " + ctx + "]";
        }
    }
}
