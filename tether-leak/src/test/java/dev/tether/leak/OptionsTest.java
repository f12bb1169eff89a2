package dev.tether.leak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.ManualTimeSource;
import dev.tether.TimeSource;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;

/** Options: defaults, withers, validation with clear messages, and the system properties. */
class OptionsTest {

    @Test
    void defaultsAreSampledOneInSixtyFourWithATwoSecondGrace() {
        LeakDetector.Options o = LeakDetector.Options.defaults();

        assertEquals(LeakDetector.Level.SAMPLED, o.level());
        assertEquals(64, o.sampleInterval());
        assertEquals(Duration.ofSeconds(2), o.gracePeriod());
        assertEquals(32, o.maxChainDepth());
        assertTrue(o.trackLostCancels());
        assertEquals("LeakListener.logging()", o.listener().toString());
        assertEquals(TimeSource.system(), o.timeSource());
    }

    @Test
    void withersChangeOneThingEach() {
        ManualTimeSource clock = ManualTimeSource.create();
        LeakDetector.Options o = LeakDetector.Options.defaults()
                .withLevel(LeakDetector.Level.FULL)
                .withSampleInterval(3)
                .withGracePeriod(Duration.ofMillis(250))
                .withMaxChainDepth(9)
                .withLostCancelTracking(false)
                .withListener(LeakListener.none())
                .withTimeSource(clock);

        assertEquals(LeakDetector.Level.FULL, o.level());
        assertEquals(3, o.sampleInterval());
        assertEquals(Duration.ofMillis(250), o.gracePeriod());
        assertEquals(9, o.maxChainDepth());
        assertFalse(o.trackLostCancels());
        assertEquals(LeakListener.none(), o.listener());
        assertEquals(clock, o.timeSource());
        assertEquals(LeakDetector.Level.SAMPLED, LeakDetector.Options.defaults().level(), "defaults unchanged");
        assertTrue(o.toString().contains("level=FULL"), o.toString());
    }

    @Test
    void badValuesAreRefusedNamingTheArgument() {
        LeakDetector.Options o = LeakDetector.Options.defaults();

        assertEquals("sampleInterval: 0 (expected: >= 1)",
                assertThrows(IllegalArgumentException.class, () -> o.withSampleInterval(0)).getMessage());
        assertEquals("gracePeriod: PT-1S (expected: >= 0)",
                assertThrows(IllegalArgumentException.class, () -> o.withGracePeriod(Duration.ofSeconds(-1)))
                        .getMessage());
        assertEquals("maxChainDepth: 0 (expected: 1 to 2147483646)",
                assertThrows(IllegalArgumentException.class, () -> o.withMaxChainDepth(0)).getMessage());
        assertTrue(assertThrows(NullPointerException.class, () -> o.withLevel(null)).getMessage().contains("level"));
        assertTrue(assertThrows(NullPointerException.class, () -> o.withListener(null)).getMessage()
                .contains("listener"));
        assertTrue(assertThrows(NullPointerException.class, () -> LeakDetector.install(null)).getMessage()
                .contains("options"));
    }

    @Test
    @ResourceLock(Resources.SYSTEM_PROPERTIES)
    void systemPropertiesSetTheOptions() {
        withProperties(Map.of(
                LeakDetector.Options.LEVEL_PROPERTY, " Full ",
                LeakDetector.Options.SAMPLE_INTERVAL_PROPERTY, "8",
                LeakDetector.Options.GRACE_PERIOD_PROPERTY, "1500",
                LeakDetector.Options.MAX_CHAIN_DEPTH_PROPERTY, "12",
                LeakDetector.Options.LOST_CANCELS_PROPERTY, "false"), () -> {
                    LeakDetector.Options o = LeakDetector.Options.fromSystemProperties();
                    assertEquals(LeakDetector.Level.FULL, o.level());
                    assertEquals(8, o.sampleInterval());
                    assertEquals(Duration.ofMillis(1500), o.gracePeriod());
                    assertEquals(12, o.maxChainDepth());
                    assertFalse(o.trackLostCancels());
                });
        withProperties(Map.of(LeakDetector.Options.LEVEL_PROPERTY, "off"), () -> {
            try (LeakDetector d = LeakDetector.install()) {
                assertEquals(LeakDetector.Level.OFF, d.level());
            }
        });
        assertEquals(LeakDetector.Level.SAMPLED, LeakDetector.Options.fromSystemProperties().level());
    }

    @Test
    @ResourceLock(Resources.SYSTEM_PROPERTIES)
    void badSystemPropertiesAreRefusedNamingTheProperty() {
        assertRefused(LeakDetector.Options.LEVEL_PROPERTY, "fulll",
                "dev.tether.leak.level: \"fulll\" (expected: off, sampled or full)");
        assertRefused(LeakDetector.Options.SAMPLE_INTERVAL_PROPERTY, "many",
                "dev.tether.leak.sampleInterval: \"many\" (expected: a whole number >= 1)");
        assertRefused(LeakDetector.Options.SAMPLE_INTERVAL_PROPERTY, "0",
                "dev.tether.leak.sampleInterval: 0 (expected: 1 to 2147483647)");
        assertRefused(LeakDetector.Options.GRACE_PERIOD_PROPERTY, "-5",
                "dev.tether.leak.gracePeriodMillis: -5 (expected: >= 0)");
        assertRefused(LeakDetector.Options.MAX_CHAIN_DEPTH_PROPERTY, "0",
                "dev.tether.leak.maxChainDepth: 0 (expected: 1 to 2147483646)");
        assertRefused(LeakDetector.Options.LOST_CANCELS_PROPERTY, "yes",
                "dev.tether.leak.lostCancels: \"yes\" (expected: true or false)");
    }

    private static void assertRefused(String property, String value, String message) {
        withProperties(Map.of(property, value), () -> assertEquals(message,
                assertThrows(IllegalArgumentException.class, LeakDetector.Options::fromSystemProperties).getMessage()));
    }

    private static void withProperties(Map<String, String> properties, Runnable body) {
        properties.forEach(System::setProperty);
        try {
            body.run();
        } finally {
            properties.keySet().forEach(System::clearProperty);
        }
    }
}
