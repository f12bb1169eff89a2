package dev.tether.leak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import jdk.jfr.EventType;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The leak detector's JFR events: names, fields and metadata, read live from a stream and back from a file. */
@Timeout(60)
class JfrEventsTest {

    @Test
    void leakSuspectedArrivesWithEveryField() throws Exception {
        try (EventCollector events = EventCollector.start("dev.tether.LeakSuspected")) {
            JfrEvents.leakSuspected("c12", "c3 WithCancel > c12 WithTimeout", "tether-fork-3", true, 2300,
                    "IGNORING_CANCELLATION", "com.shop.Checkout.handle(Checkout.java:42)");

            RecordedEvent e = events.next("dev.tether.LeakSuspected");
            assertEquals("c12", e.getString("contextId"));
            assertEquals("c3 WithCancel > c12 WithTimeout", e.getString("lineage"));
            assertEquals("tether-fork-3", e.getString("threadName"));
            assertTrue(e.getBoolean("virtualThread"));
            assertEquals(Duration.ofMillis(2300), e.getDuration("outlived"));
            assertEquals("IGNORING_CANCELLATION", e.getString("classification"));
            assertEquals("com.shop.Checkout.handle(Checkout.java:42)", e.getString("creationSite"));
            assertNull(e.getStackTrace(), "the detector's own stack is not the leak's");
        }
    }

    @Test
    void lostCancelArrivesWithEveryFieldAndAnUnsampledSiteIsNull() throws Exception {
        try (EventCollector events = EventCollector.start("dev.tether.LostCancel")) {
            JfrEvents.lostCancel("c7", "WithTimeout", null, 1200);

            RecordedEvent e = events.next("dev.tether.LostCancel");
            assertEquals("c7", e.getString("contextId"));
            assertEquals("WithTimeout", e.getString("kind"));
            assertNull(e.getString("creationSite"));
            assertEquals(Duration.ofMillis(1200), e.getDuration("age"));
        }
    }

    @Test
    void deepChainCarriesTheCreatingThreadsStack() throws Exception {
        try (EventCollector events = EventCollector.start("dev.tether.DeepChain")) {
            JfrEvents.deepChain("c99", 65, "com.shop.Retry.loop(Retry.java:17)");

            RecordedEvent e = events.next("dev.tether.DeepChain");
            assertEquals("c99", e.getString("contextId"));
            assertEquals(65, e.getInt("depth"));
            assertEquals("com.shop.Retry.loop(Retry.java:17)", e.getString("creationSite"));
            assertNotNull(e.getStackTrace());
            assertTrue(e.getStackTrace().getFrames().stream()
                    .anyMatch(f -> f.getMethod().getName().equals("deepChainCarriesTheCreatingThreadsStack")),
                    "the stack is the creating thread's");
            assertEquals(Thread.currentThread().getName(), e.getThread().getJavaName());
        }
    }

    /** The detector's own path: two planted leaks, found by a real check, arrive as LeakSuspected events. */
    @Test
    void plantedLeaksArriveFromTheDetector() throws Exception {
        try (EventCollector events = EventCollector.start("dev.tether.LeakSuspected");
                PlantedLeaks leaks = PlantedLeaks.plant()) {
            RecordedEvent first = events.next("dev.tether.LeakSuspected");
            RecordedEvent second = events.next("dev.tether.LeakSuspected");

            RecordedEvent read = first.getString("threadName").equals("planted-read") ? first : second;
            RecordedEvent loop = read == first ? second : first;
            assertEquals("planted-loop", loop.getString("threadName"));
            assertEquals("BLOCKED_UNINTERRUPTIBLE", read.getString("classification"));
            assertFalse(read.getBoolean("virtualThread"));
            assertEquals(leaks.callId(), read.getString("contextId"));
            assertEquals(leaks.requestId() + " WithCancel > " + leaks.callId() + " WithTimeout", read.getString("lineage"));
            assertTrue(read.getString("creationSite").startsWith(PlantedLeaks.READ_SITE), read.getString("creationSite"));
            assertEquals(Duration.ofSeconds(1), read.getDuration("outlived"), "checked when the 1 s grace period ended");
            assertEquals("IGNORING_CANCELLATION", loop.getString("classification"));
            assertTrue(loop.getBoolean("virtualThread"));
            assertEquals(leaks.requestId(), loop.getString("contextId"));
            assertTrue(loop.getString("creationSite").startsWith(PlantedLeaks.LOOP_SITE), loop.getString("creationSite"));
        }
    }

    @Test
    void withNoRecordingNothingIsEnabledAndEmittingIsHarmless() {
        assertFalse(new LeakSuspectedEvent().isEnabled());

        JfrEvents.leakSuspected("c1", "c1", "t", false, 1, "PARKED", null);
        JfrEvents.lostCancel("c1", "WithCancel", null, 1);
        JfrEvents.deepChain("c1", 100, null);
    }

    @Test
    void eventTypesCarryTheirMetadata() {
        for (Class<? extends jdk.jfr.Event> type : List.of(LeakSuspectedEvent.class, LostCancelEvent.class,
                DeepChainEvent.class)) {
            EventType t = EventType.getEventType(type);
            assertTrue(t.getName().startsWith("dev.tether."), t.getName());
            assertEquals("Tether", t.getCategoryNames().get(0), t.getName());
            assertNotNull(t.getLabel(), t.getName());
            assertNotNull(t.getDescription(), t.getName());
        }
        assertEquals(List.of("Tether", "Leaks"), EventType.getEventType(LeakSuspectedEvent.class).getCategoryNames());
    }

    @Test
    void aRecordingWrittenToAFileReadsBackAsJfrPrintWouldShowIt(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("leaks.jfr");
        try (Recording recording = new Recording()) {
            recording.enable("dev.tether.LeakSuspected");
            recording.enable("dev.tether.LostCancel");
            recording.start();
            JfrEvents.leakSuspected("c12", "c3 WithCancel > c12 WithTimeout", "pool-1-thread-2", false, 5000,
                    "BLOCKED_UNINTERRUPTIBLE", "com.shop.Db.query(Db.java:88)");
            JfrEvents.lostCancel("c40", "WithCancel", "com.shop.Cache.refresh(Cache.java:12)", 30_000);
            recording.stop();
            recording.dump(file);
        }

        List<RecordedEvent> read = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().startsWith("dev.tether."))
                .toList();
        assertEquals(2, read.size(), read::toString);
        RecordedEvent leak = read.stream().filter(e -> e.getEventType().getName().equals("dev.tether.LeakSuspected"))
                .findFirst().orElseThrow();
        assertEquals("BLOCKED_UNINTERRUPTIBLE", leak.getString("classification"));
        assertEquals(Duration.ofSeconds(5), leak.getDuration("outlived"));
        assertFalse(leak.getBoolean("virtualThread"));
        assertEquals("Leak Suspected", leak.getEventType().getLabel());
        RecordedEvent lost = read.stream().filter(e -> e.getEventType().getName().equals("dev.tether.LostCancel"))
                .findFirst().orElseThrow();
        assertEquals("com.shop.Cache.refresh(Cache.java:12)", lost.getString("creationSite"));

        // And the JDK's own `jfr print` shows them, with labels and formatted values.
        String printed = jfrPrint(file, dir);
        assertTrue(printed.contains("dev.tether.LeakSuspected"), printed);
        assertTrue(printed.contains("classification = \"BLOCKED_UNINTERRUPTIBLE\""), printed);
        assertTrue(printed.matches("(?s).*outlived = 5(\\.0+)? s\\R.*"), printed);
        assertTrue(printed.contains("dev.tether.LostCancel"), printed);
    }

    /** Runs {@code $JAVA_HOME/bin/jfr print} on the file, bounded in time. */
    private static String jfrPrint(Path file, Path dir) throws IOException, InterruptedException {
        Path jfr = Path.of(System.getProperty("java.home"), "bin", "jfr");
        assertTrue(Files.isExecutable(jfr), "the JDK running the tests has no jfr tool at " + jfr);
        Path out = dir.resolve("print.txt");
        Process p = new ProcessBuilder(jfr.toString(), "print", "--events", "dev.tether.LeakSuspected,dev.tether.LostCancel",
                file.toString()).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("jfr print did not finish in 30 s");
        }
        String text = Files.readString(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), text);
        return text;
    }
}
