package dev.tether.grpc;

import org.jspecify.annotations.Nullable;

/**
 * Interrupts the thread running one call's listener callback when the request context ends, and only while it is
 * inside the callback, so that an interrupt never reaches the next task of a pooled executor thread.
 *
 * <p>Implementation overview. gRPC runs one call's callbacks one at a time, so there is at most one runner. All
 * state is guarded by this object's monitor, and {@link #fire()} calls {@code Thread.interrupt()} while holding
 * it: when {@link #exit()} then takes the monitor, an interrupt this guard sent has landed, and exit clears it.
 * The flag cleared may also hold an interrupt from elsewhere that arrived during the callback; once set, the two
 * cannot be told apart. A callback that starts after {@link #fire()} is not interrupted: the context it runs
 * under is done, which is how it learns.
 */
final class HandlerInterrupter {

    private @Nullable Thread runner;   // guarded by this
    private boolean interrupted;       // guarded by this: this guard interrupted the current runner

    synchronized void enter() {
        runner = Thread.currentThread();
    }

    void exit() {
        boolean clear;
        synchronized (this) {
            runner = null;
            clear = interrupted;
            interrupted = false;
        }
        if (clear) {
            // Ours landed before we got the monitor; it must not reach the executor's next task.
            Thread.interrupted();
        }
    }

    synchronized void fire() {
        Thread t = runner;
        if (t != null && !interrupted) {
            interrupted = true;
            t.interrupt();
        }
    }
}
