package dev.tether.leak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ManualTimeSource;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Two real leaks under a FULL detector on a manual clock: a request context with a task that loops without ever
 * checking it, and below it a call context with a task blocked reading a socket that never answers, on a platform
 * thread (an interrupt does not end that read). The request is cancelled and the clock moved past the grace
 * period, so both are leaked when {@link #plant()} returns. {@link #close()} ends both tasks and the detector.
 */
final class PlantedLeaks implements AutoCloseable {

    /** The creation sites the detector should report: the lines below that start each task. */
    static final String LOOP_SITE = "dev.tether.leak.PlantedLeaks.startLoop(PlantedLeaks.java:";
    static final String READ_SITE = "dev.tether.leak.PlantedLeaks.startRead(PlantedLeaks.java:";

    final ManualTimeSource clock = ManualTimeSource.create();
    final LeakDetector detector = LeakDetector.install(LeakDetector.Options.defaults()
            .withLevel(LeakDetector.Level.FULL)
            .withGracePeriod(Duration.ofSeconds(1))
            .withTimeSource(clock)
            .withLostCancelTracking(false)
            .withListener(LeakListener.none()));
    final CancellableContext request = Context.root(clock).withCancel(); // contexts and detector on one clock
    final CancellableContext call = request.withTimeout(Duration.ofMinutes(5));
    private final ServerSocket server;
    private final Socket client;
    private volatile boolean released;
    private Thread loop;
    private Thread read;

    private PlantedLeaks() throws IOException {
        server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        client = new Socket(server.getInetAddress(), server.getLocalPort());
    }

    static PlantedLeaks plant() throws Exception {
        PlantedLeaks p = new PlantedLeaks();
        try {
            p.startLoop();
            p.startRead();
            p.request.cancel(new IOException("the client went away"));
            p.clock.advance(Duration.ofSeconds(2)); // past the grace period: the check runs here
            assertEquals(2, p.detector.leaks().tasks().size(), () -> p.detector.leaks().toText());
            return p;
        } catch (Throwable t) {
            p.close();
            throw t;
        }
    }

    private void startLoop() throws InterruptedException {
        CountDownLatch running = new CountDownLatch(1);
        loop = Thread.ofVirtual().name("planted-loop").start(request.wrap(() -> spinUntilReleased(running)));
        assertTrue(running.await(10, TimeUnit.SECONDS), "the loop started");
    }

    private void startRead() throws InterruptedException {
        read = Thread.ofPlatform().name("planted-read").daemon().start(call.wrap(this::readForever));
        // Until the task is blocked in the read itself: then its start was recorded before the cancel below, and
        // its classification is what this plants. (Any native frame on top was once taken for that, and let the
        // cancel and the clock overtake a thread still in the tracker's start hook.)
        Planted.awaitState(read, () -> Planted.inSocketRead(read), "into the socket read");
    }

    private void spinUntilReleased(CountDownLatch running) {
        running.countDown();
        long spins = 0;
        while (!released) { // never looks at Context.current(): the leak
            spins++;
            Thread.onSpinWait();
        }
        assertTrue(spins >= 0);
    }

    private void readForever() {
        try (InputStream in = client.getInputStream()) {
            in.read(); // the server never writes; closing the socket ends it
        } catch (IOException e) {
            // closed by close(): the planted leak is over
        }
    }

    String requestId() {
        return idOf(request);
    }

    String callId() {
        return idOf(call);
    }

    String loopTaskId() {
        return taskOn("planted-loop");
    }

    String readTaskId() {
        return taskOn("planted-read");
    }

    private String idOf(CancellableContext context) {
        Tracker tracker = java.util.Objects.requireNonNull(detector.tracker(), "an open detector");
        CtxRecord r = tracker.find(context);
        assertTrue(r != null, "the detector knows " + context);
        return r.id();
    }

    private String taskOn(String thread) {
        return detector.leaks().tasks().stream().filter(t -> t.thread().equals(thread)).map(TaskInfo::id)
                .findFirst().orElseThrow(() -> new AssertionError("no task on " + thread));
    }

    @Override
    public void close() throws Exception {
        released = true;
        client.close();
        server.close();
        if (loop != null) {
            loop.join(Duration.ofSeconds(10));
        }
        if (read != null) {
            read.join(Duration.ofSeconds(10));
        }
        call.close();
        request.close();
        detector.close();
    }
}
