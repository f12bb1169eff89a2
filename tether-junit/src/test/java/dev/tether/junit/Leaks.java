package dev.tether.junit;

import static org.junit.jupiter.api.Assertions.fail;

import dev.tether.Blocking;
import dev.tether.Context;
import dev.tether.ContextDoneException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Planted leaks for the case classes, and their clean-up: every thread they start is remembered, and
 * {@link #releaseAll()} ends them all (the busy loops see the flag, the sockets are closed).
 */
final class Leaks {

    private static volatile boolean released;
    private static final List<Thread> THREADS = new ArrayList<>();
    private static final List<AutoCloseable> SOCKETS = new ArrayList<>();

    private Leaks() {}

    static synchronized Thread started(Thread t) {
        THREADS.add(t);
        return t;
    }

    /** Spins until released, never looking at its context; yields, so that many spinners leave CPU to the rest. */
    static void spin() {
        while (!released) {
            Thread.yield();
        }
    }

    /** Sleeps until its context ends: well-behaved. */
    static void sleepUntilCancelled() {
        try {
            Blocking.sleep(Context.current(), Duration.ofHours(1));
        } catch (ContextDoneException e) {
            // ended with its context, as it should
        }
    }

    /** A connected socket's input, whose peer never writes; closed by {@link #releaseAll()}. */
    static synchronized InputStream silentSocket() throws IOException {
        ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Socket client = new Socket(server.getInetAddress(), server.getLocalPort());
        Socket accepted = server.accept();
        SOCKETS.add(server);
        SOCKETS.add(client);
        SOCKETS.add(accepted);
        return client.getInputStream();
    }

    static void read(InputStream in) {
        try {
            in.read();
        } catch (IOException e) {
            // closed by releaseAll
        }
    }

    /** Waits until {@code t} is inside a native call, such as the socket read. */
    static void awaitNative(Thread t) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            StackTraceElement[] stack = t.getStackTrace();
            if (t.getState() == Thread.State.RUNNABLE && stack.length > 0 && stack[0].isNativeMethod()
                    && List.of(stack).toString().contains("java.net.Socket")) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                fail(t + " never got into its socket read");
            }
            Thread.sleep(1);
        }
    }

    static void reset() {
        released = false;
    }

    /** Ends every planted leak and waits for its thread. */
    static void releaseAll() throws Exception {
        released = true;
        List<Thread> threads;
        synchronized (Leaks.class) {
            for (AutoCloseable c : SOCKETS) {
                c.close();
            }
            SOCKETS.clear();
            threads = new ArrayList<>(THREADS);
            THREADS.clear();
        }
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(10));
            if (t.isAlive()) {
                fail(t + " still runs after its leak was released");
            }
        }
    }
}
