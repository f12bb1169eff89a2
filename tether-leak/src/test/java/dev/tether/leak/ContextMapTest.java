package dev.tether.leak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ManualTimeSource;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The snapshot JSON, field by field, as leak-contract.md fixes it for the map page. */
@Timeout(60)
class ContextMapTest {

    private static final Set<String> TOP = Set.of("version", "takenAt", "level", "contexts", "tasks", "lostCancels");
    private static final Set<String> CONTEXT = Set.of("id", "parent", "kind", "site", "createdAt", "deadline",
            "remainingMillis", "done", "endedBy");
    private static final Set<String> ENDED_BY = Set.of("type", "cause", "byAncestor", "thread", "at", "site");
    private static final Set<String> TASK = Set.of("id", "context", "thread", "virtual", "threadState", "startedAt",
            "runningMillis", "leaked", "outlivedMillis", "classification", "creationStack", "stack");
    private static final Set<String> LOST = Set.of("kind", "site", "ageMillis");

    private final ManualTimeSource clock = ManualTimeSource.create();
    private final Collector collector = new Collector();

    @Test
    @SuppressWarnings("unchecked")
    void snapshotHoldsLiveContextsTheirTasksLeaksAndLostCancels() throws Exception {
        String nasty = "</script><img src=x onerror=alert(1)> \"quoted\" \\ \n\t\u2028 \ud800 é 😀";
        List<Thread> threads = new ArrayList<>();
        try (LeakDetector detector = LeakDetector.install(LeakDetector.Options.defaults()
                        .withLevel(LeakDetector.Level.FULL)
                        .withGracePeriod(Duration.ofSeconds(1))
                        .withListener(collector)
                        .withTimeSource(clock));
                Planted planted = new Planted();
                CancellableContext server = Context.root(clock).withCancel()) {
            detector.label(server, nasty);
            CancellableContext live = server.withTimeout(Duration.ofMinutes(10));
            CancellableContext ended = server.withCancel();
            threads.add(Thread.ofPlatform().name("leaked-task").start(ended.wrap(planted.busyLoop())));
            assertTrue(planted.started.await(Collector.WAIT_SECONDS, TimeUnit.SECONDS));
            Thread parked = Thread.ofVirtual().name("live-task").start(live.wrap(planted.parkedSwallowingInterrupts()));
            threads.add(parked);
            Planted.awaitState(parked, () -> parked.getState() == Thread.State.TIMED_WAITING, "parked");
            ended.cancel(new IllegalStateException(nasty));
            clock.advance(Duration.ofSeconds(1));
            assertEquals(1, collector.nextLeak().tasks().size());
            dropAContext();
            LostCancel lost = null;
            for (int i = 0; i < 200 && lost == null; i++) {
                System.gc();
                lost = collector.lostCancels.poll(10, TimeUnit.MILLISECONDS);
            }
            assertNotNull(lost);

            ContextMap map = ContextMap.capture(detector);
            String json = map.toJson();

            assertFalse(json.contains("</script>"), "no markup survives into the JSON text");
            assertFalse(json.contains("\u2028"));
            Map<String, Object> doc = StrictJson.object(json);
            assertEquals(TOP, doc.keySet());
            assertEquals(1L, doc.get("version"));
            assertEquals("FULL", doc.get("level"));
            Instant.parse((String) doc.get("takenAt"));

            List<Map<String, Object>> contexts = (List<Map<String, Object>>) doc.get("contexts");
            Set<String> ids = new HashSet<>();
            for (Map<String, Object> c : contexts) {
                assertEquals(CONTEXT, c.keySet(), c::toString);
                assertTrue(ids.add((String) c.get("id")), "ids are unique");
                Instant.parse((String) c.get("createdAt"));
            }
            for (Map<String, Object> c : contexts) {
                assertTrue(c.get("parent") == null || ids.contains(c.get("parent")), "parent is in the map: " + c);
            }
            assertEquals(3, contexts.size(), "server, live and ended (it has a task); the dropped one is gone");
            Map<String, Object> serverJson = byId(contexts, idOf(detector, server));
            assertEquals(nasty, serverJson.get("site"), "the label, unchanged by the trip");
            assertNull(serverJson.get("parent"));
            assertNull(serverJson.get("endedBy"));
            Map<String, Object> liveJson = byId(contexts, idOf(detector, live));
            assertEquals("WithTimeout", liveJson.get("kind"));
            assertEquals(Boolean.FALSE, liveJson.get("done"));
            assertNotNull(liveJson.get("deadline"));
            assertEquals(599_000L, liveJson.get("remainingMillis"), "by the context's own clock");
            Map<String, Object> endedJson = byId(contexts, idOf(detector, ended));
            assertEquals(Boolean.TRUE, endedJson.get("done"));
            assertNull(endedJson.get("remainingMillis"));
            Map<String, Object> endedBy = (Map<String, Object>) endedJson.get("endedBy");
            assertEquals(ENDED_BY, endedBy.keySet());
            assertEquals("cancelled", endedBy.get("type"));
            assertEquals("java.lang.IllegalStateException: " + nasty, endedBy.get("cause"));
            assertEquals(Boolean.FALSE, endedBy.get("byAncestor"));
            assertTrue(((String) endedBy.get("site")).contains("snapshotHoldsLiveContextsTheirTasksLeaksAndLostCancels"));

            List<Map<String, Object>> tasks = (List<Map<String, Object>>) doc.get("tasks");
            assertEquals(2, tasks.size());
            for (Map<String, Object> t : tasks) {
                assertEquals(TASK, t.keySet(), t::toString);
                assertTrue(ids.contains(t.get("context")));
                Instant.parse((String) t.get("startedAt"));
                assertFalse(((List<Object>) t.get("stack")).isEmpty());
                assertTrue(((List<String>) t.get("creationStack")).get(0).contains("snapshotHoldsLive"));
            }
            Map<String, Object> liveTask = byThread(tasks, "live-task");
            assertEquals(Boolean.FALSE, liveTask.get("leaked"));
            assertEquals("RUNNING", liveTask.get("classification"));
            assertNull(liveTask.get("outlivedMillis"));
            assertEquals(Boolean.TRUE, liveTask.get("virtual"));
            Map<String, Object> leakedTask = byThread(tasks, "leaked-task");
            assertEquals(Boolean.TRUE, leakedTask.get("leaked"));
            assertEquals("IGNORING_CANCELLATION", leakedTask.get("classification"));
            assertEquals("RUNNABLE", leakedTask.get("threadState"));
            assertEquals(1000L, leakedTask.get("outlivedMillis"));
            assertEquals(idOf(detector, ended), leakedTask.get("context"));

            List<Map<String, Object>> lostCancels = (List<Map<String, Object>>) doc.get("lostCancels");
            assertEquals(1, lostCancels.size());
            assertEquals(LOST, lostCancels.get(0).keySet());
            assertEquals("WithCancel", lostCancels.get(0).get("kind"));
            assertTrue(((String) lostCancels.get(0).get("site")).contains("ContextMapTest.dropAContext("));
            assertTrue(map.toString().startsWith("ContextMap["), map.toString());

            live.cancel();
            planted.release();
            for (Thread t : threads) {
                t.join();
            }
        }
    }

    @Test
    void withNoDetectorInstalledTheMapIsEmptyAndOff() {
        ContextMap map = ContextMap.capture();

        assertEquals(LeakDetector.Level.OFF, map.level());
        Map<String, Object> doc = StrictJson.object(map.toJson());
        assertEquals(List.of(), doc.get("contexts"));
        assertEquals(List.of(), doc.get("tasks"));
        assertEquals(List.of(), doc.get("lostCancels"));
    }

    private static void dropAContext() {
        assertFalse(Context.background().withCancel().isDone());
    }

    private static String idOf(LeakDetector detector, CancellableContext ctx) {
        return Objects.requireNonNull(Objects.requireNonNull(detector.tracker()).find(ctx)).id();
    }

    private static Map<String, Object> byId(List<Map<String, Object>> items, String id) {
        return items.stream().filter(m -> id.equals(m.get("id"))).findFirst().orElseThrow(() -> new AssertionError(id));
    }

    private static Map<String, Object> byThread(List<Map<String, Object>> items, String thread) {
        return items.stream().filter(m -> thread.equals(m.get("thread"))).findFirst()
                .orElseThrow(() -> new AssertionError(thread));
    }
}
