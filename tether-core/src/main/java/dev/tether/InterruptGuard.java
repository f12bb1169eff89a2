package dev.tether;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.jspecify.annotations.Nullable;

/**
 * Delivers a context's interrupt to one thread, and only while that thread is inside one guarded region: a task
 * run by a {@link TaskGroup} or a {@link ContextExecutors#cancelling} executor, or one wait of {@link Blocking}.
 *
 * <p>Implementation overview. One int state, changed by CAS, the way {@code FutureTask} guards its runner:
 * <pre>
 *   NEW --arm()--> ARMED --disarm()--> DISARMED
 *    |               |
 *    | fire()        | fire()
 *    v               v
 *   PREVENTED     INTERRUPTING --(thread.interrupt() returned)--> INTERRUPTED
 * </pre>
 * {@link #fire()} interrupts only from ARMED, so an interrupt can reach the thread only between {@link #arm()}
 * and {@link #disarm()}. The race that matters is a fire() that read ARMED and is about to call interrupt() while
 * the guarded thread leaves: disarm() then finds INTERRUPTING and waits (yielding; the window is one
 * {@code Thread.interrupt()} call) until the interrupt has landed, and clears it. So when disarm() returns, no
 * interrupt of this guard is pending and none will come: nothing leaks into the next task on a pooled thread. A
 * fire() before arm() (the task has not started) turns the guard PREVENTED, and arm() then refuses to start.
 *
 * <p>The flag cleared by disarm() may also hold an interrupt from elsewhere that arrived in the same window; the
 * two cannot be told apart once set. Interrupts that never meet a fired guard are never touched.
 */
final class InterruptGuard {

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(InterruptGuard.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final int NEW = 0;
    private static final int ARMED = 1;
    private static final int INTERRUPTING = 2;
    private static final int INTERRUPTED = 3;
    private static final int DISARMED = 4;
    private static final int PREVENTED = 5;

    /** What {@link #fire()} did. */
    enum Fired { NOTHING, INTERRUPTED, PREVENTED }

    private volatile int state;
    /** Written by the guarded thread in arm() before the CAS that publishes ARMED; read by fire() after it. */
    private @Nullable Thread thread;
    /** When fire() interrupted the thread, on System.nanoTime; for diagnostics only. Written once by fire(). */
    private volatile long firedAtNanos;

    /** A guard armed for the current thread, for a wait that starts at once. */
    static InterruptGuard armedForCurrentThread() {
        InterruptGuard guard = new InterruptGuard();
        guard.thread = Thread.currentThread();
        guard.state = ARMED; // volatile write: publishes thread with it
        return guard;
    }

    /** Called by the thread about to enter the region; false if fire() came first and the region must not run. */
    boolean arm() {
        thread = Thread.currentThread();
        return STATE.compareAndSet(this, NEW, ARMED);
    }

    /** Interrupts the guarded thread if it is inside the region, or keeps the region from starting. */
    Fired fire() {
        while (true) {
            int s = state;
            if (s == NEW) {
                if (STATE.compareAndSet(this, NEW, PREVENTED)) {
                    return Fired.PREVENTED;
                }
            } else if (s == ARMED) {
                if (STATE.compareAndSet(this, ARMED, INTERRUPTING)) {
                    firedAtNanos = System.nanoTime();
                    try {
                        java.util.Objects.requireNonNull(thread).interrupt();
                    } finally {
                        state = INTERRUPTED;
                    }
                    return Fired.INTERRUPTED;
                }
            } else {
                return Fired.NOTHING;
            }
        }
    }

    /**
     * Called by the guarded thread when it leaves the region. Returns true if this guard interrupted it; that
     * interrupt has then been delivered and is cleared. After this returns, the guard never interrupts again.
     */
    boolean disarm() {
        if (STATE.compareAndSet(this, ARMED, DISARMED)) {
            return false;
        }
        int s;
        while ((s = state) == INTERRUPTING) {
            Thread.yield(); // fire() is inside thread.interrupt(); wait until the interrupt has landed
        }
        if (s == INTERRUPTED) {
            Thread.interrupted();
            return true;
        }
        return false;
    }

    /** Whether fire() interrupted the thread. */
    boolean interrupted() {
        int s = state;
        return s == INTERRUPTING || s == INTERRUPTED;
    }

    /** When fire() interrupted the thread (System.nanoTime), or 0. */
    long firedAtNanos() {
        return firedAtNanos;
    }
}
