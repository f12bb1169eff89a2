package dev.tether.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.Context;
import dev.tether.ContextCancelledException;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.EndedEarly;
import dev.tether.wire.InboundBudget;
import dev.tether.wire.InboundCall;
import dev.tether.wire.PeerEndedException;
import dev.tether.wire.RequestEndedException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The handler's context, origin, completion and error answers, over HTTP/1.1 on loopback. */
@Timeout(30)
class TetherHandlerTest {

    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final InboundBudget POLICY = InboundBudget.builder()
            .maxBudget(Duration.ofSeconds(20))
            .defaultBudget(Duration.ofSeconds(10))
            .reserve(Duration.ofMillis(50))
            .build();

    @AfterAll
    static void closeClient() {
        CLIENT.close();
    }

    @AfterEach
    void currentContextIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
    }

    private static HttpResponse<String> get(Hop hop, String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(hop.uri(path)).timeout(Duration.ofSeconds(20));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void handlerRunsUnderTheBudgetLessTheReserveWithTheCallersOrigin() throws Exception {
        AtomicReference<Duration> remaining = new AtomicReference<>();
        AtomicReference<DeadlineOrigin> origin = new AtomicReference<>();
        try (Hop hop = Hop.builder("orders").policy(POLICY).work((call, request) -> {
            remaining.set(Context.current().remaining().orElseThrow());
            origin.set(DeadlineOrigin.from(Context.current()));
            return "ok";
        }).start()) {

            HttpResponse<String> response = get(hop, "/stock", "tether-budget", "2S",
                    "tether-deadline-origin", "gateway/POST:/checkout");

            assertEquals(200, response.statusCode());
            assertEquals("ok", response.body());
            assertTrue(remaining.get().compareTo(Duration.ofMillis(1950)) <= 0, remaining.get().toString());
            assertTrue(remaining.get().compareTo(Duration.ofMillis(950)) > 0, remaining.get().toString());
            assertEquals(new DeadlineOrigin("gateway", "POST:/checkout"), origin.get());
            InboundCall call = hop.nextCall();
            assertEquals(Duration.ofMillis(1950), call.budget().budget());
            assertFalse(call.isEndedEarly());
            assertTrue(response.headers().firstValue("tether-ended").isEmpty());
        }
    }

    @Test
    void withoutABudgetTheServerDefaultAppliesAndTheServerIsTheOrigin() throws Exception {
        AtomicReference<DeadlineOrigin> origin = new AtomicReference<>();
        try (Hop hop = Hop.builder("orders").policy(POLICY).work((call, request) -> {
            origin.set(DeadlineOrigin.from(Context.current()));
            return "ok";
        }).start()) {

            get(hop, "/stock?item=1");

            assertEquals(new DeadlineOrigin("orders", "GET:/stock"), origin.get());
            assertEquals(Duration.ofMillis(9950), hop.nextCall().budget().budget());
        }
    }

    @Test
    void completingTheResponseCancelsTheContextWithResponseCompleted() throws Exception {
        AtomicReference<Context> ctx = new AtomicReference<>();
        try (Hop hop = Hop.builder("orders").policy(POLICY).work((call, request) -> {
            ctx.set(Context.current());
            return "ok";
        }).start()) {

            get(hop, "/x");
            InboundCall call = hop.nextCall();

            assertTrue(ctx.get().isDone());
            assertInstanceOf(ContextCancelledException.class, ctx.get().err());
            assertSame(RequestEndedException.responseCompleted(), ctx.get().cause());
            assertNull(call.endedEarly());
        }
    }

    @Test
    void anUncaughtExceptionBecomesA500WithoutAStackTrace() throws Exception {
        IllegalStateException boom = new IllegalStateException("secret internal detail");
        AtomicReference<Context> ctx = new AtomicReference<>();
        try (Hop hop = Hop.builder("orders").policy(POLICY).work((call, request) -> {
            ctx.set(Context.current());
            throw boom;
        }).start()) {

            HttpResponse<String> response = get(hop, "/x");

            assertEquals(500, response.statusCode());
            assertEquals("500 Internal Server Error\n", response.body());
            assertTrue(response.headers().firstValue("tether-ended").isEmpty());
            InboundCall call = hop.nextCall();
            assertSame(boom, call.failure());
            assertSame(boom, ctx.get().cause(), "the cause is recorded on the request's context");
        }
    }

    @Test
    void aFailedCallbackBecomesA500Too() throws Exception {
        try (Hop hop = Hop.builder("orders").policy(POLICY).handler(new org.eclipse.jetty.server.Handler.Abstract() {
            @Override
            public boolean handle(org.eclipse.jetty.server.Request request, org.eclipse.jetty.server.Response response,
                    org.eclipse.jetty.util.Callback callback) {
                callback.failed(new java.io.IOException("disk on fire"));
                return true;
            }
        }).start()) {

            HttpResponse<String> response = get(hop, "/x");

            assertEquals(500, response.statusCode());
            assertFalse(response.body().contains("disk"), response.body());
            assertInstanceOf(java.io.IOException.class, hop.nextCall().failure());
        }
    }

    @Test
    void aDownstreamTimeoutBecomesA504CarryingTheChain() throws Exception {
        try (Hop hop = Hop.builder("gateway").policy(POLICY).work((call, request) -> {
            throw new PeerEndedException("orders", new EndedEarly(EndedEarly.Kind.DEADLINE_EXCEEDED,
                    "budget 80ms from gateway/GET:/checkout ran out at orders/GET:/stock"), null);
        }).start()) {

            HttpResponse<String> response = get(hop, "/checkout");

            assertEquals(504, response.statusCode());
            EndedEarly ended = EndedEarly.parse(response.headers().firstValue("tether-ended").orElseThrow());
            assertEquals(EndedEarly.Kind.DEADLINE_EXCEEDED, ended.kind());
            assertEquals("orders ended the call early: deadline-exceeded: budget 80ms from gateway/GET:/checkout "
                    + "ran out at orders/GET:/stock", ended.reason());
        }
    }

    @Test
    void aDownstreamCancellationBecomesA502() throws Exception {
        try (Hop hop = Hop.builder("gateway").policy(POLICY).work((call, request) -> {
            throw new java.io.UncheckedIOException(new java.io.IOException("wrapped",
                    new PeerEndedException("orders", new EndedEarly(EndedEarly.Kind.CANCELLED, "shutting down"), null)));
        }).start()) {

            HttpResponse<String> response = get(hop, "/checkout");

            assertEquals(502, response.statusCode());
            assertEquals("cancelled; reason=\"orders ended the call early: cancelled: shutting down\"",
                    response.headers().firstValue("tether-ended").orElseThrow());
        }
    }

    @Test
    void aBudgetBelowTheMinimumIsAnsweredAtOnceWithoutRunningTheHandler() throws Exception {
        InboundBudget policy = InboundBudget.builder().reserve(Duration.ofMillis(20)).minBudget(Duration.ofMillis(10))
                .build();
        AtomicReference<Boolean> ran = new AtomicReference<>(false);
        try (Hop hop = Hop.builder("orders").policy(policy).work((call, request) -> {
            ran.set(true);
            return "ok";
        }).start()) {

            HttpResponse<String> response = get(hop, "/x", "tether-budget", "25m",
                    "tether-deadline-origin", "gateway/checkout");

            assertEquals(504, response.statusCode());
            assertEquals("deadline-exceeded; reason=\"budget 5ms from gateway/checkout is below the minimum at "
                    + "orders/GET:/x\"", response.headers().firstValue("tether-ended").orElseThrow());
            assertFalse(ran.get());
            assertTrue(hop.nextCall().isEndedEarly());
        }
    }

    @Test
    void aSpentBudgetIsAnsweredAtOnce() throws Exception {
        try (Hop hop = Hop.builder("orders").policy(POLICY).work((call, request) -> "ok").start()) {

            HttpResponse<String> response = get(hop, "/x", "grpc-timeout", "0n");

            assertEquals(504, response.statusCode());
            assertTrue(response.body().startsWith("504 Gateway Timeout: deadline-exceeded: budget 0ms from "
                    + "peer/grpc-timeout"), response.body());
        }
    }

    @Test
    void anUnhandledRequestIsJettys404AndItsContextEnds() throws Exception {
        try (Hop hop = Hop.builder("orders").policy(POLICY).handler(new org.eclipse.jetty.server.Handler.Abstract() {
            @Override
            public boolean handle(org.eclipse.jetty.server.Request request, org.eclipse.jetty.server.Response response,
                    org.eclipse.jetty.util.Callback callback) {
                return false;
            }
        }).start()) {

            assertEquals(404, get(hop, "/nothing").statusCode());
            InboundCall call = hop.nextCall();
            assertTrue(call.context().isDone());
            assertFalse(call.isEndedEarly());
        }
    }
}
