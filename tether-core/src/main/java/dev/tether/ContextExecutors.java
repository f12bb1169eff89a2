package dev.tether;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Executors that carry the submitting thread's {@link Context#current()} to the task: each task runs with the
 * context that was current when it was submitted, then the worker's previous binding is restored, so nothing
 * leaks into the next task on a pooled thread. Go passes the context as an argument; in Java, wrapping the
 * executor once keeps every {@code submit} in the chain.
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

    private static <T> List<Callable<T>> wrapAll(Collection<? extends Callable<T>> tasks) {
        Context context = Context.current();
        List<Callable<T>> wrapped = new ArrayList<>(tasks.size());
        for (Callable<T> task : tasks) {
            wrapped.add(context.wrap(Objects.requireNonNull(task, "task must not be null")));
        }
        return wrapped;
    }

    private static class PropagatingExecutorService<E extends ExecutorService> implements ExecutorService {
        final E delegate;

        PropagatingExecutorService(E delegate) {
            this.delegate = delegate;
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
}
