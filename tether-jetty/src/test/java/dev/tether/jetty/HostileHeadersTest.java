package dev.tether.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.Context;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.InboundBudget;
import dev.tether.wire.InboundCall;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a hostile or broken client sends, byte for byte over HTTP/1.1, and what the handler's context ends up with:
 * never more than the server's maximum, never a header or log line broken by the client's bytes.
 */
@Timeout(60)
class HostileHeadersTest {

    private static final InboundBudget POLICY = InboundBudget.builder()
            .maxBudget(Duration.ofSeconds(2))
            .defaultBudget(Duration.ofSeconds(1))
            .reserve(Duration.ofMillis(100))
            .build();
    private static Hop hop;

    @BeforeAll
    static void start() throws Exception {
        // Echoes what the handler was given: its budget, where it came from, and the origin it names.
        hop = Hop.builder("orders").policy(POLICY).work((call, request) -> {
            DeadlineOrigin origin = DeadlineOrigin.from(Context.current());
            return call.budget().budget().toMillis() + " " + call.budget().source() + " " + origin;
        }).start();
    }

    @AfterAll
    static void stop() throws Exception {
        hop.close();
    }

    private static String handlerSaw(String... headerLines) throws Exception {
        RawHttp.Reply reply = RawHttp.get(hop.port(), "/x", headerLines);
        assertEquals(200, reply.status(), reply.toString());
        return reply.body();
    }

    private static InboundCall lastCall() throws InterruptedException {
        return hop.nextCall("GET:/x");
    }

    @Test
    void aHugeBudgetIsCappedAndTheServerBecomesTheOrigin() throws Exception {
        assertEquals("1900 TETHER_BUDGET orders/GET:/x",
                handlerSaw("tether-budget: 99999999H", "tether-deadline-origin: gateway/checkout"));
        assertTrue(lastCall().budget().capped());
        assertEquals("1900 ENVOY orders/GET:/x", handlerSaw("x-envoy-expected-rq-timeout-ms: " + "9".repeat(60)));
        lastCall();
        assertEquals("1900 FINAGLE orders/GET:/x",
                handlerSaw("Finagle-Ctx-com.twitter.finagle.Deadline: 0 " + Long.MAX_VALUE));
        lastCall();
    }

    @ParameterizedTest
    @ValueSource(strings = {"-5m", "+5m", "5", "123456789m", "5x", "5ms", "1.5S", "0x10S", "5 m", "NaN", "1e3m",
        "99999999999999999999S"})
    void aMalformedBudgetIsRejectedAndTheDefaultApplies(String value) throws Exception {
        assertEquals("900 SERVER_DEFAULT orders/GET:/x", handlerSaw("tether-budget: " + value));
        InboundCall call = lastCall();
        assertEquals(1, call.budget().notes().size(), call.budget().notes().toString());
        assertTrue(call.budget().notes().get(0).startsWith("tether-budget rejected: "));
    }

    @Test
    void aNegativeOrMalformedEnvoyTimeoutIsRejected() throws Exception {
        assertEquals("900 SERVER_DEFAULT orders/GET:/x", handlerSaw("x-envoy-expected-rq-timeout-ms: -1"));
        lastCall();
        assertEquals("900 SERVER_DEFAULT orders/GET:/x", handlerSaw("x-envoy-expected-rq-timeout-ms: 0"));
        lastCall();
        assertEquals("400 ENVOY peer/x-envoy-expected-rq-timeout-ms",
                handlerSaw("x-envoy-expected-rq-timeout-ms: 500"));
        lastCall();
    }

    @Test
    void aFinagleDeadlineIsReadAgainstTheServerClock() throws Exception {
        long now = Instant.now().toEpochMilli() * 1_000_000L;

        String saw = handlerSaw("Finagle-Ctx-com.twitter.finagle.Deadline: " + now + " " + (now + 1_500_000_000L));

        String[] parts = saw.split(" ");
        long budgetMillis = Long.parseLong(parts[0]);
        assertTrue(budgetMillis <= 1400 && budgetMillis > 400, saw);
        assertEquals("FINAGLE peer/finagle-ctx-com.twitter.finagle.deadline", parts[1] + " " + parts[2]);
        lastCall();
    }

    @Test
    void aHostileOriginIsIgnoredButTheBudgetStands() throws Exception {
        assertEquals("400 TETHER_BUDGET peer/tether-budget",
                handlerSaw("tether-budget: 500m", "tether-deadline-origin: gateway\"; reason=\"injected/op"));
        lastCall();
        assertEquals("400 TETHER_BUDGET peer/tether-budget",
                handlerSaw("tether-budget: 500m", "tether-deadline-origin: " + "g".repeat(5000) + "/op"));
        lastCall();
    }

    @Test
    void aControlCharacterInAHeaderValueNeverReachesTheContext() throws Exception {
        // Jetty answers 400 to control characters itself; a tab and non-ASCII bytes (obs-text) survive its parser and
        // are refused by the grammar.
        assertEquals(400, RawHttp.get(hop.port(), "/x", "tether-budget: 5\u0001m").status());
        assertEquals(400, RawHttp.get(hop.port(), "/x", "tether-deadline-origin: gw\u007f/op").status());
        assertEquals("900 SERVER_DEFAULT orders/GET:/x", handlerSaw("tether-budget: 5\tm"));
        lastCall();
        assertEquals("400 TETHER_BUDGET peer/tether-budget",
                handlerSaw("tether-budget: 500m", "tether-deadline-origin: gw\u00e9/op"));
        assertTrue(lastCall().budget().notes().get(0).startsWith("service: character 0x"));
    }

    @Test
    void aFoldedHeaderLineCannotSmuggleABudget() throws Exception {
        RawHttp.Reply reply = RawHttp.get(hop.port(), "/x", "tether-budget: 1S", " 99999999H");

        assertEquals(400, reply.status(), "Jetty refuses obsolete line folding");
    }

    @Test
    void aMegabyteHeaderIsRefusedBeforeTheHandler() throws Exception {
        RawHttp.Reply reply = RawHttp.getOrRefused(hop.port(), "/x", "tether-ended: " + "x".repeat(1 << 20));

        // Jetty answers 431 and closes; the client may still be writing and see the connection reset instead.
        assertTrue(reply == null || reply.status() == 431, String.valueOf(reply));
        assertNull(hop.calls().poll(), "no call was started");
    }

    @Test
    void aHeaderJustUnderJettysLimitIsRejectedByLengthWithoutBeingRead() throws Exception {
        assertEquals("900 SERVER_DEFAULT orders/GET:/x", handlerSaw("tether-budget: " + "9".repeat(6000) + "S"));
        assertEquals("tether-budget rejected: 6001 characters (expected: at most 64)", lastCall().budget().notes().get(0));
    }

    @Test
    void theEndedHeaderAnsweredNeverCarriesTheClientsBytes() throws Exception {
        RawHttp.Reply reply = RawHttp.get(hop.port(), "/x", "tether-budget: 0n",
                "tether-deadline-origin: gateway/op:@evil");

        assertEquals(504, reply.status());
        assertEquals("deadline-exceeded; reason=\"budget 0ms from gateway/op:@evil is below the minimum at "
                + "orders/GET:/x\"", reply.header("tether-ended"));
        lastCall();
    }
}
