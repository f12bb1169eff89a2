package dev.tether.wire;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;

/**
 * Delivers one interrupt to one handler thread, and only while that thread is inside the handler.
 *
 * <p>Implementation overview. One int state changed by CAS:
 * <pre>
 *   ARMED --disarm()--> DISARMED
 *     |
 *     | fire()
 *     v
 *   INTERRUPTING --(thread.interrupt() returned)--> INTERRUPTED
 * </pre>
 * A guard is made armed by the thread entering the handler. fire() interrupts only from ARMED. The race that
 * matters is a fire() that won ARMED -> INTERRUPTING while the thread leaves: disarm() then waits (yielding; the
 * window is one Thread.interrupt() call) until the interrupt has landed and clears it, so no interrupt of ours
 * reaches whatever the thread runs next, such as another request on a pooled thread.
 */
final class HandlerGuard {

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(HandlerGuard.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final int ARMED = 0;
    private static final int INTERRUPTING = 1;
    private static final int INTERRUPTED = 2;
    private static final int DISARMED = 3;

    // Written once before the guard is published (a volatile write by the publisher), read by fire().
    private final Thread thread;
    private volatile int state = ARMED;

    HandlerGuard(Thread thread) {
        this.thread = Objects.requireNonNull(thread);
    }

    /** Interrupts the thread if it is still inside; true if this call did. */
    boolean fire() {
        if (!STATE.compareAndSet(this, ARMED, INTERRUPTING)) {
            return false;
        }
        try {
            thread.interrupt();
        } finally {
            state = INTERRUPTED;
        }
        return true;
    }

    /** Called by the guarded thread as it leaves; true if it was interrupted by fire(), which is then cleared. */
    boolean disarm() {
        if (STATE.compareAndSet(this, ARMED, DISARMED)) {
            return false;
        }
        int s;
        while ((s = state) == INTERRUPTING) {
            Thread.yield(); // fire() is inside thread.interrupt(); the interrupt lands within one call
        }
        if (s == INTERRUPTED) {
            Thread.interrupted();
            return true;
        }
        return false;
    }
}
