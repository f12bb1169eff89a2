package dev.tether.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.leak.Classification;
import dev.tether.leak.LeakDetector;
import dev.tether.leak.TaskInfo;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Settings from annotations and configuration parameters; the filters; clear errors for bad values. */
class SettingsTest {

    private static Function<String, Optional<String>> parameters(Map<String, String> values) {
        return key -> Optional.ofNullable(values.get(key));
    }

    private static TaskInfo task(String thread, List<String> creation, List<String> stack) {
        return new TaskInfo("t1", "c1", thread, false, Thread.State.RUNNABLE, false, Instant.EPOCH, 1, true, 1L,
                Classification.IGNORING_CANCELLATION, creation, stack, List.of());
    }

    @TetherLeakCheck(waitMillis = 10, ignoreThreads = "a-.*", ignoreCreatedBy = "com.x.Poller")
    static class Annotated {
        @TetherLeakCheck(ignoreThreads = "b")
        void method() {}
    }

    @Test
    void annotationsAddUpAndTheNearestWaitWins() throws Exception {
        Settings s = Settings.of(parameters(Map.of(Settings.WAIT_MILLIS, "999", Settings.IGNORE_THREADS, "c, d")),
                List.of(Annotated.class.getDeclaredMethod("method"), Annotated.class));

        assertEquals(10, s.waitMillis);
        assertEquals(List.of("b", "a-.*", "c", "d"), s.ignoreThreads.stream().map(Object::toString).toList());
        assertEquals(List.of("com.x.Poller"), s.ignoreCreatedBy);
    }

    @Test
    void withoutAnnotationsTheParametersOrTheDefaultsApply() {
        assertEquals(2000, Settings.of(parameters(Map.of()), List.of()).waitMillis);
        assertEquals(5, Settings.of(parameters(Map.of(Settings.WAIT_MILLIS, " 5 ")), List.of()).waitMillis);
        assertEquals(LeakDetector.Level.FULL, Settings.detectorOptions(parameters(Map.of())).level());
        assertEquals(LeakDetector.Level.SAMPLED,
                Settings.detectorOptions(parameters(Map.of(Settings.LEVEL, "Sampled"))).level());
    }

    @Test
    void filtersMatchWholeThreadNamesAndCreatingClassesWithTheirNestedOnes() {
        Settings s = Settings.of(parameters(Map.of(Settings.IGNORE_THREADS, "poller-\\d+",
                Settings.IGNORE_CREATED_BY, "com.x.Poller")), List.of());

        assertTrue(s.ignores(task("poller-12", List.of(), List.of())));
        assertFalse(s.ignores(task("my-poller-12", List.of(), List.of())), "whole name");
        assertTrue(s.ignores(task("t", List.of("com.y.A.a(A.java:1)", "com.x.Poller.start(Poller.java:9)"), List.of())));
        assertTrue(s.ignores(task("t", List.of("com.x.Poller$Loop.run(Poller.java:20)"), List.of())));
        assertFalse(s.ignores(task("t", List.of("com.x.PollerFactory.make(PollerFactory.java:3)"), List.of())));
        assertTrue(s.ignores(task("t", List.of(), List.of("java.base/java.lang.Thread.sleep(Thread.java:1)",
                "com.x.Poller.loop(Poller.java:30)"))), "unsampled: the current stack is searched");
    }

    @Test
    void badValuesAreRefusedNamingWhereTheyCameFrom() {
        assertEquals("tether.leak.waitMillis: \"soon\" (expected: milliseconds >= 0)",
                assertThrows(IllegalArgumentException.class,
                        () -> Settings.of(parameters(Map.of(Settings.WAIT_MILLIS, "soon")), List.of())).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> Settings.of(parameters(Map.of(Settings.IGNORE_THREADS, "([")), List.of())).getMessage()
                .startsWith("configuration parameter tether.leak.ignoreThreads: \"([\" is not a regular expression"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> Settings.of(parameters(Map.of(Settings.IGNORE_CREATED_BY, "com/x/Poller")), List.of()))
                .getMessage().contains("expected: a fully qualified class name"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> Settings.detectorOptions(parameters(Map.of(Settings.LEVEL, "off")))).getMessage()
                .startsWith("tether.leak.level: \"off\" (expected: sampled or full"));
    }
}
