package dev.tether.leak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ManualTimeSource;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What the tracker lets go of (contexts and threads, once they end) and what it reports when they go. */
@Timeout(60)
class RetentionAndLostCancelTest {

    private final ManualTimeSource clock = ManualTimeSource.create();
    private final Collector collector = new Collector();
    private final LeakDetector detector = LeakDetector.install(LeakDetector.Options.defaults()
            .withLevel(LeakDetector.Level.FULL)
            .withGracePeriod(Duration.ofSeconds(1))
            .withListener(collector)
            .withTimeSource(clock));

    @AfterEach
    void close() {
        detector.close();
    }

    private Tracker tracker() {
        return Objects.requireNonNull(detector.tracker());
    }

    @Test
    void contextNeverCancelled_isReportedAsLostCancelWithItsSite() throws Exception {
        dropAContextWithoutCancelling();
        WeakReference<CancellableContext> closed = makeAndCloseAContext();

        LostCancel lost = null;
        for (int i = 0; i < 200 && lost == null; i++) {
            System.gc();
            lost = collector.lostCancels.poll(10, TimeUnit.MILLISECONDS);
        }

        assertNotNull(lost, "no lost cancel reported after 200 collections");
        assertEquals("WithTimeout", lost.kind());
        assertTrue(lost.site().contains("RetentionAndLostCancelTest.dropAContextWithoutCancelling("), lost.site());
        assertTrue(lost.toText().contains("without cancel() or close()"), lost.toText());
        Gc.until(() -> closed.get() == null && tracker().trackedContexts() == 0, "both contexts reaped");
        assertTrue(collector.lostCancels.isEmpty(), "a closed context is no lost cancel: " + collector.lostCancels);
        assertEquals(1, ContextMap.capture(detector).lostCancels().size());
    }

    private static void dropAContextWithoutCancelling() {
        CancellableContext forgotten = Context.background().withTimeout(Duration.ofHours(1));
        assertTrue(!forgotten.isDone());
    }

    private static WeakReference<CancellableContext> makeAndCloseAContext() {
        CancellableContext ctx = Context.background().withCancel();
        ctx.close();
        return new WeakReference<>(ctx);
    }

    @Test
    void trackerHoldsNoContextAndNoThreadOnceTheyEnd() throws Exception {
        WeakReference<?>[] refs = runATaskAndForgetIt();
        WeakReference<?>[] leakedRefs = leakATaskReportItThenEndIt();

        Gc.until(() -> refs[0].get() == null && refs[1].get() == null, "context and thread collected");
        Gc.until(() -> leakedRefs[0].get() == null && leakedRefs[1].get() == null,
                "a reported leak's context and thread collected once it ended");
        Gc.until(() -> tracker().trackedContexts() == 0, "records reaped");
        assertTrue(collector.lostCancels.isEmpty());
    }

    private WeakReference<?>[] runATaskAndForgetIt() throws InterruptedException {
        CancellableContext ctx = Context.background().withTimeout(Duration.ofMinutes(1));
        Thread thread = Thread.ofPlatform().start(ctx.wrap(() -> { }));
        thread.join();
        ctx.close();
        return new WeakReference<?>[] {new WeakReference<>(ctx), new WeakReference<>(thread)};
    }

    private WeakReference<?>[] leakATaskReportItThenEndIt() throws Exception {
        try (Planted planted = new Planted()) {
            CancellableContext ctx = Context.background().withCancel();
            Thread thread = Thread.ofVirtual().start(ctx.wrap(planted.busyLoop()));
            assertTrue(planted.started.await(Collector.WAIT_SECONDS, TimeUnit.SECONDS));
            ctx.cancel();
            clock.advance(Duration.ofSeconds(1));
            assertEquals(1, collector.nextLeak().tasks().size());
            planted.release();
            thread.join();
            return new WeakReference<?>[] {new WeakReference<>(ctx), new WeakReference<>(thread)};
        }
    }
}
