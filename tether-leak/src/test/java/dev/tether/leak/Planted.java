package dev.tether.leak;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Bodies of planted leaks, each released by {@link #release()}: the test itself wraps them in its context, so that
 * the test's own method is the creation site.
 */
final class Planted implements AutoCloseable {

    final CountDownLatch started = new CountDownLatch(1);
    /** Interrupts that {@link #parkedSwallowingInterrupts()} swallowed. */
    final java.util.concurrent.atomic.AtomicInteger swallowed = new java.util.concurrent.atomic.AtomicInteger();
    private final CountDownLatch released = new CountDownLatch(1);
    private volatile boolean release;
    private final Object monitor = new Object();
    private ServerSocket server;
    private Socket client;
    private Socket accepted;

    /** A loop that never looks at its context: ignores cancellation until released. */
    Runnable busyLoop() {
        return () -> {
            started.countDown();
            long spins = 0;
            while (!release) {
                spins++;
                Thread.onSpinWait();
            }
            if (spins < 0) {
                throw new AssertionError("unreachable; keeps the loop from being optimised away");
            }
        };
    }

    /** Waits on a latch, swallowing interrupts: parked until released. */
    Runnable parkedSwallowingInterrupts() {
        return () -> {
            started.countDown();
            while (true) {
                try {
                    if (released.await(1, TimeUnit.HOURS)) {
                        return;
                    }
                } catch (InterruptedException e) {
                    swallowed.incrementAndGet(); // and waits on: the leak
                }
            }
        };
    }

    /** Enters a monitor the test holds ({@link #holdMonitor}). */
    Runnable enterMonitor() {
        return () -> {
            started.countDown();
            synchronized (monitor) {
                monitor.notifyAll();
            }
        };
    }

    /** Runs {@code body} while holding the monitor that {@link #enterMonitor()} waits for. */
    void holdMonitor(Runnable body) {
        synchronized (monitor) {
            body.run();
        }
    }

    /**
     * Reads a socket whose peer never writes. On a platform thread the read is not interruptible; the task ends
     * when {@link #close()} closes the socket.
     */
    Runnable socketRead() throws IOException {
        server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        client = new Socket(server.getInetAddress(), server.getLocalPort());
        accepted = server.accept();
        InputStream in = client.getInputStream();
        return () -> {
            started.countDown();
            try {
                in.read();
            } catch (IOException e) {
                // closed by the test: the planted leak ends
            }
        };
    }

    void release() {
        release = true;
        released.countDown();
    }

    /** Waits until {@code thread} is where the test wants it, e.g. BLOCKED or in a native read. */
    static void awaitState(Thread thread, BooleanSupplier reached, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Collector.WAIT_SECONDS);
        while (!reached.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail(thread + " did not get " + what + " within " + Collector.WAIT_SECONDS + " s: "
                        + thread.getState());
            }
            Thread.sleep(1);
        }
    }

    /**
     * Whether the thread is blocked in a socket read right now: on top the native read of the JDK's socket
     * implementation, below it a socket stream's read. A native frame alone is not enough: a thread just started
     * runs native code before its task does, in class loading, lambda linkage and the tracker's start hook (whose
     * onDone registration arms the context's deadline timer), and a thread there is not yet fully recorded nor
     * classified as the test means.
     */
    static boolean inSocketRead(Thread thread) {
        StackTraceElement[] stack = thread.getStackTrace();
        if (thread.getState() != Thread.State.RUNNABLE || stack.length == 0 || !stack[0].isNativeMethod()
                || !stack[0].getClassName().startsWith("sun.nio.ch.")) {
            return false;
        }
        for (StackTraceElement frame : stack) {
            if (frame.getClassName().startsWith("java.net.Socket") && frame.getMethodName().equals("read")) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() throws Exception {
        release();
        for (AutoCloseable c : new AutoCloseable[] {client, accepted, server}) {
            if (c != null) {
                c.close();
            }
        }
    }
}
