package dev.tether.jdbc;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Interrupts a thread waiting for a connection (a pool's queue, or the connect itself) when its context ends: the
 * action registered with {@link dev.tether.Context#onDone(Runnable)} for the duration of one
 * {@code getConnection}.
 *
 * <p>Implementation overview. One int state, the way {@code FutureTask} guards its runner:
 * <pre>
 *   WAITING --finish()--> DONE
 *      |
 *      | run(): CAS, then thread.interrupt()
 *      v
 *   INTERRUPTING --> INTERRUPTED --finish()--> DONE (interrupt cleared)
 * </pre>
 * The interrupt is delivered only from WAITING, so only while the thread is inside the guarded call. If the
 * interrupter has read WAITING and is about to interrupt while the thread leaves, finish() finds INTERRUPTING and
 * waits (the window is one {@code Thread.interrupt()} call), then clears the flag: when finish() returns, no
 * interrupt of this guard is pending and none will come.
 */
final class AcquireGuard implements Runnable {

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(AcquireGuard.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final int WAITING = 0;
    private static final int INTERRUPTING = 1;
    private static final int INTERRUPTED = 2;
    private static final int DONE = 3;

    private final Thread thread;
    private volatile int state;

    /** A guard for the current thread, which is about to wait. */
    AcquireGuard() {
        this.thread = Thread.currentThread();
    }

    @Override
    public void run() {
        if (STATE.compareAndSet(this, WAITING, INTERRUPTING)) {
            thread.interrupt();
            state = INTERRUPTED;
        }
    }

    /** Ends the guarded wait; returns whether this guard interrupted it (the flag is then cleared). */
    boolean finish() {
        while (true) {
            int s = state;
            if (s == WAITING && STATE.compareAndSet(this, WAITING, DONE)) {
                return false;
            }
            if (s == INTERRUPTED) {
                state = DONE;
                Thread.interrupted();
                return true;
            }
            if (s == DONE) {
                return false;
            }
            Thread.onSpinWait(); // INTERRUPTING: one Thread.interrupt() call away from INTERRUPTED
        }
    }
}
