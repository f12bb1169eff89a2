package dev.tether.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.ManualTimeSource;
import dev.tether.wire.InboundBudget.Result;
import dev.tether.wire.InboundBudget.Source;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(10)
class InboundBudgetTest {

    private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
    private static final DeadlineOrigin SELF = new DeadlineOrigin("orders", "GET:/orders");

    private final ManualTimeSource time = ManualTimeSource.create(NOW);
    private final InboundBudget policy = InboundBudget.builder()
            .maxBudget(Duration.ofSeconds(10))
            .defaultBudget(Duration.ofSeconds(2))
            .reserve(Duration.ofMillis(20))
            .minBudget(Duration.ofMillis(5))
            .timeSource(time)
            .build();

    private static Map<String, String> headers(String... namesAndValues) {
        Map<String, String> map = new HashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            map.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return map;
    }

    private Result read(String... namesAndValues) {
        return policy.read(headers(namesAndValues)::get);
    }

    @Test
    void withoutHeadersTheServerDefaultApplies() {
        Result r = read();

        assertEquals(Duration.ofMillis(1980), r.budget());
        assertEquals(Source.SERVER_DEFAULT, r.source());
        assertNull(r.offered());
        assertTrue(r.setByServer());
        assertEquals(SELF, r.origin(SELF));
        assertTrue(r.notes().isEmpty());
    }

    @Test
    void aTetherBudgetWithOriginIsUsedLessTheReserve() {
        Result r = read("tether-budget", "250m", "tether-deadline-origin", "gateway/POST:/checkout");

        assertEquals(Duration.ofMillis(230), r.budget());
        assertEquals(Duration.ofMillis(250), r.offered());
        assertEquals(Source.TETHER_BUDGET, r.source());
        assertFalse(r.capped());
        assertFalse(r.belowMinimum());
        assertEquals(new DeadlineOrigin("gateway", "POST:/checkout"), r.origin(SELF));
        assertEquals("budget PT0.23S (offered PT0.25S via tether-budget by gateway/POST:/checkout)", r.toString());
    }

    @Test
    void theSmallestValidOfferWinsAndTiesGoToTheFirstInOrder() {
        assertEquals(Source.TETHER_BUDGET, read("tether-budget", "1S", "grpc-timeout", "1000m").source());
        assertEquals(Source.GRPC_TIMEOUT, read("tether-budget", "1S", "grpc-timeout", "999m").source());
        Result envoy = read("tether-budget", "1S", "tether-deadline-origin", "gateway/x",
                "x-envoy-expected-rq-timeout-ms", "300");
        assertEquals(Source.ENVOY, envoy.source());
        assertEquals(Duration.ofMillis(280), envoy.budget());
        assertEquals(new DeadlineOrigin("peer", "x-envoy-expected-rq-timeout-ms"), envoy.origin(SELF),
                "the origin header names the tether-budget's origin, not Envoy's");
    }

    @Test
    void aGrpcTimeoutWithoutOriginNamesThePeerByHeader() {
        Result r = read("grpc-timeout", "100000u");

        assertEquals(Duration.ofMillis(80), r.budget());
        assertEquals(new DeadlineOrigin("peer", "grpc-timeout"), r.origin(SELF));
        assertFalse(r.setByServer());
    }

    @Test
    void theServerMaximumAlwaysCapsAndMakesTheServerTheOrigin() {
        Result r = read("tether-budget", "99999999H", "tether-deadline-origin", "gateway/x");

        assertEquals(Duration.ofMillis(9980), r.budget());
        assertTrue(r.capped());
        assertEquals(SELF, r.origin(SELF));
        assertEquals(new DeadlineOrigin("gateway", "x"), r.peerOrigin());
        assertEquals("tether-budget offered PT99999999H, capped at the server maximum PT10S", r.notes().get(0));
    }

    @Test
    void aSpentOrTinyBudgetIsBelowTheMinimum() {
        assertTrue(read("tether-budget", "0n").belowMinimum());
        assertEquals(Duration.ZERO, read("tether-budget", "0n").budget());
        assertTrue(read("tether-budget", "20m").belowMinimum(), "all of it is reserve");
        assertTrue(read("tether-budget", "24m").belowMinimum(), "4ms after the reserve, minimum 5ms");
        assertFalse(read("tether-budget", "25m").belowMinimum());
    }

    @Test
    void envoyMillisecondsAreReadAndZeroMeansNoTimeout() {
        assertEquals(Duration.ofMillis(1480), read("x-envoy-expected-rq-timeout-ms", "1500").budget());

        Result zero = read("x-envoy-expected-rq-timeout-ms", "0");

        assertEquals(Source.SERVER_DEFAULT, zero.source());
        assertEquals("x-envoy-expected-rq-timeout-ms ignored: 0 (Envoy's 'no timeout')", zero.notes().get(0));
    }

    @Test
    void hugeEnvoyValuesSaturateAndAreCapped() {
        Result r = read("x-envoy-expected-rq-timeout-ms", "9".repeat(40));

        assertTrue(r.capped());
        assertEquals(Duration.ofMillis(9980), r.budget());
        assertEquals(Duration.ofMillis(Long.MAX_VALUE), r.offered());
    }

    @Test
    void finagleDeadlinesAreReadAgainstTheLocalClock() {
        long now = NOW.getEpochSecond() * 1_000_000_000L;
        String value = (now - 5_000_000L) + " " + (now + 700_000_000L);

        Result r = read("finagle-ctx-com.twitter.finagle.deadline", value);

        assertEquals(Source.FINAGLE, r.source());
        assertEquals(Duration.ofMillis(680), r.budget());
        time.advance(Duration.ofMillis(100));
        assertEquals(Duration.ofMillis(580), read("finagle-ctx-com.twitter.finagle.deadline", value).budget());
    }

    @Test
    void aPassedFinagleDeadlineLeavesNoBudget() {
        long now = NOW.getEpochSecond() * 1_000_000_000L;

        Result r = read("finagle-ctx-com.twitter.finagle.deadline", (now - 10) + " " + (now - 1));

        assertEquals(Duration.ZERO, r.offered());
        assertTrue(r.belowMinimum());
    }

    @Test
    void finagleTopDeadlineIsCapped() {
        Result r = read("finagle-ctx-com.twitter.finagle.deadline", "0 " + Long.MAX_VALUE);

        assertTrue(r.capped());
        assertEquals(Duration.ofMillis(9980), r.budget());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-5m", "+5m", "5", "123456789m", "5x", "5 m", "1.5S", "5m\r\nx-evil: 1", "５m",
        "0x10S", "NaN", "Infinity", "-0n", "5ms"})
    void malformedBudgetsAreRejectedAndTheDefaultApplies(String value) {
        for (String header : new String[] {"tether-budget", "grpc-timeout"}) {
            Result r = read(header, value);

            assertEquals(Source.SERVER_DEFAULT, r.source(), header + ": " + value);
            assertEquals(Duration.ofMillis(1980), r.budget());
            assertEquals(1, r.notes().size());
            assertTrue(r.notes().get(0).startsWith(header + " rejected: "), r.notes().get(0));
            assertTrue(r.notes().get(0).chars().allMatch(c -> c >= 0x20 && c < 0x7f), "notes are safe to log");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-1", "+1", "1.5", "1e3", "100ms", "1 000", "0x10", "١٠٠", "10\r\n"})
    void malformedEnvoyValuesAreRejected(String value) {
        Result r = read("x-envoy-expected-rq-timeout-ms", value);

        assertEquals(Source.SERVER_DEFAULT, r.source());
        assertTrue(r.notes().get(0).startsWith("x-envoy-expected-rq-timeout-ms rejected: "), r.notes().get(0));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "1", "1  2", "-1 2", "1 -2", "a b", "1 2 3", "1\t2", "1 2\r\n"})
    void malformedFinagleValuesAreRejected(String value) {
        Result r = read("finagle-ctx-com.twitter.finagle.deadline", value);

        assertEquals(Source.SERVER_DEFAULT, r.source(), value);
        assertTrue(r.notes().get(0).startsWith("finagle-ctx-com.twitter.finagle.deadline rejected: "),
                r.notes().get(0));
    }

    @Test
    void surroundingSpacesAreNotPartOfTheValue() {
        assertEquals(Duration.ofMillis(80), read("tether-budget", " \t100m ").budget());
        assertEquals(new DeadlineOrigin("gw", "op"),
                read("tether-budget", "100m", "tether-deadline-origin", "  gw/op\t").peerOrigin());
    }

    @Test
    void megabyteValuesAreRejectedUnreadInEveryHeader() {
        String mb = "9".repeat(1 << 20);

        Result r = read("tether-budget", mb, "grpc-timeout", mb, "x-envoy-expected-rq-timeout-ms", mb,
                "finagle-ctx-com.twitter.finagle.deadline", mb, "tether-deadline-origin", mb);

        assertEquals(Source.SERVER_DEFAULT, r.source());
        assertEquals(4, r.notes().size(), r.notes().toString());
        for (String note : r.notes()) {
            assertTrue(note.endsWith(" rejected: 1048576 characters (expected: at most 64)"), note);
        }
    }

    @Test
    void aHostileOriginIsIgnoredButTheBudgetStands() {
        Result r = read("tether-budget", "100m", "tether-deadline-origin", "gateway\r\nSet-Cookie: a=b/op");

        assertEquals(Duration.ofMillis(80), r.budget());
        assertNull(r.peerOrigin());
        assertEquals(new DeadlineOrigin("peer", "tether-budget"), r.origin(SELF));
        assertEquals("service: character 0x000d at index 7 (expected: letters, digits or !#$%&'*+-.^_`|~); "
                + "origin ignored", r.notes().get(0));
    }

    @Test
    void aMegabyteOriginIsRejectedByItsLength() {
        Result r = read("tether-budget", "100m", "tether-deadline-origin", " ".repeat(1 << 20));

        assertNull(r.peerOrigin());
        assertEquals("tether-deadline-origin: 1048576 characters (expected: at most 193); origin ignored",
                r.notes().get(0));
    }

    @Test
    void theOriginIsIgnoredWithoutATetherOrGrpcBudget() {
        Result r = read("tether-deadline-origin", "gateway/x");

        assertNull(r.peerOrigin());
        assertEquals(SELF, r.origin(SELF));
    }

    @Test
    void builderChecksEveryValueAndTheirRelations() {
        assertEquals("maxBudget: PT0S (expected: > 0)", assertThrows(IllegalArgumentException.class,
                () -> InboundBudget.builder().maxBudget(Duration.ZERO)).getMessage());
        assertEquals("reserve: PT-0.001S (expected: >= 0)", assertThrows(IllegalArgumentException.class,
                () -> InboundBudget.builder().reserve(Duration.ofMillis(-1))).getMessage());
        assertEquals("defaultBudget: PT11S (expected: at most maxBudget PT10S)", assertThrows(
                IllegalArgumentException.class, () -> InboundBudget.builder().maxBudget(Duration.ofSeconds(10))
                        .defaultBudget(Duration.ofSeconds(11)).build()).getMessage());
        assertEquals("reserve: PT10S (expected: less than maxBudget PT10S)", assertThrows(
                IllegalArgumentException.class, () -> InboundBudget.builder().maxBudget(Duration.ofSeconds(10))
                        .reserve(Duration.ofSeconds(10)).build()).getMessage());
        assertEquals("minBudget", assertThrows(NullPointerException.class,
                () -> InboundBudget.builder().minBudget(null)).getMessage());
        InboundBudget defaults = InboundBudget.builder().build();
        assertEquals(Duration.ofSeconds(30), defaults.maxBudget());
        assertEquals(Duration.ofSeconds(30), defaults.defaultBudget());
    }
}
