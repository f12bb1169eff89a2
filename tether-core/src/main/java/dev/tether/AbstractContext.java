package dev.tether;

import dev.tether.spi.ContextObserver;
import dev.tether.spi.ContextObservers;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * What every context shares: its parent (for lineage), its values and its time source. Exactly two concrete
 * classes extend it, {@link SimpleContext} and {@link CancelContext}, so call sites on {@link Context} stay
 * bimorphic and inline.
 */
abstract sealed class AbstractContext implements Context permits SimpleContext, CancelContext {

    /** Runs {@link #onDone(Runnable)} actions: one virtual thread each, never the canceller's. */
    static final Executor ASYNC = task -> Thread.ofVirtual().name("tether-onDone").start(task);

    final @Nullable AbstractContext parent;
    final ValueMap values;
    final TimeSource time;

    AbstractContext(@Nullable AbstractContext parent, ValueMap values, TimeSource time) {
        this.parent = parent;
        this.values = values;
        this.time = time;
    }

    /** The nearest context on the path to the root that can end (this one, if it can), else null. */
    abstract @Nullable CancelContext source();

    /** What {@link Context#current()} returns while this context is attached. */
    abstract Context visible();

    /** This context's own part of {@link #toString()}, such as {@code WithCancel}. */
    abstract void describe(StringBuilder out);

    @Override
    public final CancellableContext withCancel() {
        return CancelContext.create(this, Long.MAX_VALUE, null, false);
    }

    @Override
    public final CancellableContext withTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout must not be null");
        // The deadline as an Instant is worked out only if someone asks: no wall-clock read on the hot path.
        return CancelContext.create(this, saturatedNanos(timeout), null, true);
    }

    @Override
    public final CancellableContext withDeadline(Instant deadline) {
        Objects.requireNonNull(deadline, "deadline must not be null");
        Duration timeout;
        try {
            timeout = Duration.between(time.now(), deadline);
        } catch (ArithmeticException e) {
            timeout = deadline.isBefore(time.now()) ? Duration.ofNanos(Long.MIN_VALUE) : Duration.ofNanos(Long.MAX_VALUE);
        }
        return CancelContext.create(this, saturatedNanos(timeout), deadline, true);
    }

    /** Nanoseconds, clamped to about ±73 years so that deadline arithmetic on nanoTime cannot overflow. */
    private static long saturatedNanos(Duration timeout) {
        final long limit = Long.MAX_VALUE / 4;
        if (timeout.getSeconds() >= limit / 1_000_000_000L) {
            return limit;
        }
        if (timeout.getSeconds() <= -limit / 1_000_000_000L) {
            return -limit;
        }
        return timeout.toNanos();
    }

    @Override
    public final <T> Context withValue(Key<T> key, T value) {
        Objects.requireNonNull(key, "key must not be null");
        Objects.requireNonNull(value, "value must not be null");
        return new SimpleContext(this, SimpleContext.VALUE, source(), values.with(key, value), time, key);
    }

    @Override
    public final Context withoutCancel() {
        return new SimpleContext(this, SimpleContext.WITHOUT_CANCEL, null, values, time, null);
    }

    @Override
    @SuppressWarnings("unchecked")
    public final <T> @Nullable T value(Key<T> key) {
        Objects.requireNonNull(key, "key must not be null");
        return (T) values.get(key);
    }

    @Override
    public final TimeSource timeSource() {
        return time;
    }

    @Override
    public final Registration onDone(Runnable action) {
        return onDone(action, ASYNC);
    }

    @Override
    public final Scope attach() {
        return Binding.attach(visible());
    }

    @Override
    public final void run(Runnable task) {
        Objects.requireNonNull(task, "task must not be null");
        run(task, submitted());
    }

    @Override
    public final <V> V call(Callable<V> task) throws Exception {
        Objects.requireNonNull(task, "task must not be null");
        return call(task, submitted());
    }

    /**
     * Tells the installed observer, if any, that a task is bound to this context, on the submitting thread; the
     * token goes to the task's start ({@link #run(Runnable, Object)}, {@link #call(Callable, Object)}).
     */
    final @Nullable Object submitted() {
        ContextObserver o = ContextObservers.installed();
        return o == null ? null : o.taskSubmitted(source(), this);
    }

    /** Runs a task submitted earlier ({@link #submitted()}) with this context attached. */
    @SuppressWarnings("try") // the scope is used for its close()
    final void run(Runnable task, @Nullable Object submitted) {
        ContextObserver o = ContextObservers.installed();
        if (o == null) {
            try (Scope scope = attach()) {
                task.run();
            }
            return;
        }
        Object started = o.taskStarted(source(), this, submitted);
        try (Scope scope = attach()) {
            task.run();
        } finally {
            o.taskEnded(started);
        }
    }

    /** Calls a task submitted earlier ({@link #submitted()}) with this context attached. */
    @SuppressWarnings("try") // the scope is used for its close()
    final <V> V call(Callable<V> task, @Nullable Object submitted) throws Exception {
        ContextObserver o = ContextObservers.installed();
        // try-with-resources: the task's own exception wins, and a scope report is suppressed on it
        if (o == null) {
            try (Scope scope = attach()) {
                return task.call();
            }
        }
        Object started = o.taskStarted(source(), this, submitted);
        try (Scope scope = attach()) {
            return task.call();
        } finally {
            o.taskEnded(started);
        }
    }

    @Override
    public final Runnable wrap(Runnable task) {
        Objects.requireNonNull(task, "task must not be null");
        Object submitted = submitted();
        return new Runnable() {
            @Override
            public void run() {
                AbstractContext.this.run(task, submitted);
            }

            @Override
            public String toString() {
                return task + " in " + AbstractContext.this;
            }
        };
    }

    @Override
    public final <V> Callable<V> wrap(Callable<V> task) {
        Objects.requireNonNull(task, "task must not be null");
        Object submitted = submitted();
        return new Callable<>() {
            @Override
            public V call() throws Exception {
                return AbstractContext.this.call(task, submitted);
            }

            @Override
            public String toString() {
                return task + " in " + AbstractContext.this;
            }
        };
    }

    @Override
    public final void throwIfDone() {
        ContextDoneException err = err();
        if (err != null) {
            throw err;
        }
    }

    /** The lineage from the root, as Go prints it: {@code Background.WithCancel.WithDeadline(…)}. */
    @Override
    public final String toString() {
        List<AbstractContext> path = new ArrayList<>();
        for (AbstractContext c = this; c != null; c = c.parent) {
            path.add(c);
        }
        StringBuilder out = new StringBuilder();
        for (int i = path.size() - 1; i >= 0; i--) {
            AbstractContext c = path.get(i);
            if (c instanceof SimpleContext s && s.kind == SimpleContext.VIEW) {
                continue; // a view prints as the context it shows
            }
            if (!out.isEmpty()) {
                out.append('.');
            }
            c.describe(out);
        }
        return out.toString();
    }
}
