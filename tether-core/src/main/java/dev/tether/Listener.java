package dev.tether;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.jspecify.annotations.Nullable;

/** An {@link Context#onDone} action: runs at most once, unless stopped first. */
final class Listener implements Registration {

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(Listener.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final int PENDING = 0;
    private static final int FIRED = 1;
    private static final int STOPPED = 2;

    private final Runnable action;
    private final java.util.concurrent.Executor executor;
    /** The context this is registered with; null for a context that never ends. */
    private final @Nullable CancelContext source;
    private volatile int state;

    Listener(Runnable action, java.util.concurrent.Executor executor, @Nullable CancelContext source) {
        this.action = action;
        this.executor = executor;
        this.source = source;
    }

    void fire() {
        if (!STATE.compareAndSet(this, PENDING, FIRED)) {
            return;
        }
        try {
            executor.execute(action);
        } catch (Throwable t) {
            // The canceller must go on ending the rest of the tree; the failure goes where uncaught ones go.
            Thread thread = Thread.currentThread();
            thread.getUncaughtExceptionHandler().uncaughtException(thread, t);
        }
    }

    @Override
    public boolean stop() {
        if (!STATE.compareAndSet(this, PENDING, STOPPED)) {
            return false;
        }
        if (source != null) {
            source.removeChild(this);
        }
        return true;
    }

    @Override
    public String toString() {
        return "onDone(" + action + ")";
    }
}
