package dev.tether.jdbc;

import dev.tether.Context;
import dev.tether.Registration;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * One statement execution under a context: the action registered with {@link Context#onDone(Runnable)} for the
 * statement's duration, which cancels the statement when the context ends.
 *
 * <p>Implementation overview. One int state, changed by the executing thread and the canceller (the onDone action,
 * on its own virtual thread):
 * <pre>
 *   ARMED --begin()--> RUNNING --finish()--> FINISHED
 *     |                  ^  |
 *     | finish()         |  | canceller: CAS, then target.cancel()
 *     v                  |  v
 *   FINISHED           CANCELLING
 * </pre>
 * The canceller calls {@code cancel()} only from RUNNING, so only between {@link #begin()} and {@link #finish()}.
 * Three races matter.
 * <ul>
 *   <li><b>A context that ends just before the statement is sent.</b> {@link #begin()} writes RUNNING and then
 *       reads the context's done state; the context is done before the canceller runs, and the canceller reads
 *       the state. Both sides write, then read the other's volatile field, so at least one sees the other: either
 *       the executing thread sees the context done and sends nothing, or the canceller sees RUNNING and cancels.
 *   <li><b>A cancel that arrives before the driver has started.</b> Drivers ignore {@code cancel()} while no
 *       query is in flight (pgjdbc and H2 both do), so a cancel that lands between {@link #begin()} and the
 *       driver's own start is lost. The canceller therefore cancels again, after 1 ms and then at doubling
 *       intervals up to 250 ms, until the execution finishes; a driver that already cancelled treats the repeats
 *       as no-ops.
 *   <li><b>A cancel that lands on the next statement.</b> {@link #finish()} moves RUNNING to FINISHED by CAS; if
 *       the canceller is inside {@code cancel()} (CANCELLING) it waits until that call has returned. After
 *       finish() no cancel of this execution is in progress and none will start, so the connection's next
 *       statement cannot be hit by it.
 * </ul>
 * Nothing is retained after finish(): the registration is stopped and the canceller, if parked, is woken and exits.
 */
final class Execution implements Runnable {

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(Execution.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final int ARMED = 0;
    private static final int RUNNING = 1;
    private static final int CANCELLING = 2;
    private static final int FINISHED = 3;

    private static final long FIRST_RETRY_NANOS = 1_000_000L;
    private static final long MAX_RETRY_NANOS = 250_000_000L;

    /** The statement's context; held only for the statement's duration, as the registration is. */
    @SuppressWarnings("CTX007")
    final Context context;
    private volatile int state;
    /** The statement in flight: written by the executing thread (an internal SET, then the user's), read by the canceller. */
    private volatile Statement target;
    /** Whether a cancel() call returned normally; written by the canceller, read by the executing thread. */
    private volatile boolean cancelSent;
    /** The last failure of cancel(), reported with the statement's exception; written by the canceller. */
    private volatile @Nullable Throwable cancelFailure;
    /** The canceller while it runs, to be woken by finish(); written by the canceller. */
    private volatile @Nullable Thread canceller;
    /** Written and read by the executing thread only. */
    private @Nullable Registration registration;

    Execution(Context context, Statement target) {
        this.context = context;
        this.target = target;
    }

    /** Registers the canceller; a context that can never end needs none. Executing thread. */
    void register() {
        if (context != Context.background()) {
            registration = context.onDone(this);
        }
    }

    /** Points cancellation at the statement about to be sent. Executing thread. */
    void target(Statement statement) {
        target = statement;
    }

    /**
     * Marks the execution in flight. Returns false if the context is already done, in which case nothing may be
     * sent. Executing thread, once.
     */
    boolean begin() {
        state = RUNNING;
        return !context.isDone();
    }

    /** Whether a cancel() reached the driver. */
    boolean cancelSent() {
        return cancelSent;
    }

    @Nullable Throwable cancelFailure() {
        return cancelFailure;
    }

    /**
     * Ends the execution: waits out a cancel() in progress, stops the registration. Idempotent. Executing thread.
     */
    void finish() {
        for (int spins = 0; ; spins++) {
            int s = state;
            if (s == FINISHED) {
                return;
            }
            if (s == CANCELLING) {
                // The canceller is inside cancel(): usually microseconds, a network round trip at worst.
                if (spins < 64) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.parkNanos(this, 20_000L);
                }
                continue;
            }
            if (STATE.compareAndSet(this, s, FINISHED)) {
                break;
            }
        }
        Registration r = registration;
        if (r != null) {
            registration = null;
            r.stop();
        }
        Thread c = canceller;
        if (c != null) {
            LockSupport.unpark(c);
        }
    }

    /** The canceller: runs once the context is done, on a virtual thread of its own. */
    @Override
    public void run() {
        canceller = Thread.currentThread();
        long pause = FIRST_RETRY_NANOS;
        while (true) {
            int s = state;
            if (s == ARMED || s == FINISHED) {
                return; // ARMED: begin() will see the context done and send nothing
            }
            if (s == RUNNING && STATE.compareAndSet(this, RUNNING, CANCELLING)) {
                try {
                    target.cancel();
                    cancelSent = true;
                } catch (SQLException | RuntimeException e) {
                    cancelFailure = e;
                } finally {
                    state = RUNNING;
                }
            }
            LockSupport.parkNanos(this, pause);
            pause = Math.min(pause * 2, MAX_RETRY_NANOS);
        }
    }
}
