package dev.tether.chain;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.DeadlineExceededException;
import dev.tether.chain.Chain.GrpcTransport;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.EndedEarly;
import dev.tether.wire.RequestEndedException;
import dev.tether.wire.WireHeaders;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 8's chain over loopback: a user calls {@code gateway} (HTTP, h2c), which calls {@code orders} (HTTP, h2c),
 * which calls {@code inventory} (gRPC over Netty, or in process). The budget reaches the last hop less every
 * reserve, the last hop names the gateway as its deadline's origin, a timeout at the last hop reaches the user
 * with every hop's reason, hostile headers at the gateway are clamped, and the user going away stops every hop.
 */
@Timeout(60)
class ThreeHopChainTest {

    private static HttpResponse<String> get(HttpClient user, Chain chain, String pathAndQuery, String... headers)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(chain.gatewayUri(pathAndQuery));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return user.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** One call through the whole chain, so every HTTP/2 connection is upgraded before the test's own call. */
    private static void warmUp(HttpClient user, Chain chain) throws Exception {
        HttpResponse<String> warm = get(user, chain, "/warm-up");
        assertEquals(200, warm.statusCode(), warm.body());
        assertEquals(HttpClient.Version.HTTP_2, warm.version());
        chain.forget();
    }

    @ParameterizedTest
    @EnumSource(GrpcTransport.class)
    void budgetReachesTheLastHopLessEveryReserveAndNamesTheGateway(GrpcTransport transport) throws Exception {
        try (Chain chain = new Chain(transport);
                HttpClient user = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build()) {
            warmUp(user, chain);

            HttpResponse<String> response = get(user, chain, "/checkout");

            assertEquals(200, response.statusCode(), response.body());
            assertEquals("reserved book", response.body());
            Duration atGateway = Chain.GATEWAY_BUDGET.minus(Chain.SERVER_RESERVE);
            Duration atOrders = atGateway.minus(Chain.CLIENT_RESERVE).minus(Chain.SERVER_RESERVE);
            Duration atInventory = atOrders.minus(Chain.CLIENT_RESERVE).minus(Chain.INVENTORY_RESERVE);
            assertEquals(atGateway, chain.seen("gateway").budget);
            assertEquals(atOrders, chain.seen("orders").budget, "HTTP carries the budget exactly (tether-budget)");
            Duration last = chain.seen("inventory").budget;
            if (transport == GrpcTransport.IN_PROCESS) {
                assertEquals(atInventory, last);
            } else {
                // gRPC over Netty measures its deadline on the system clock: transit time comes off too.
                assertTrue(last.compareTo(atInventory) <= 0 && last.compareTo(atInventory.minusSeconds(5)) > 0,
                        last + " vs " + atInventory);
            }
            DeadlineOrigin gateway = chain.seen("gateway").origin;
            assertEquals("gateway", gateway.service());
            assertEquals(gateway, chain.seen("orders").origin);
            assertEquals(gateway, chain.seen("inventory").origin, "the last hop names the gateway");
            System.out.printf("chain (%s): budget gateway %s, orders %s, inventory %s; origin %s%n", transport,
                    atGateway, chain.seen("orders").budget, last, gateway);
        }
    }

    @ParameterizedTest
    @EnumSource(GrpcTransport.class)
    void timeoutAtTheLastHopReachesTheUserWithEveryHopsReason(GrpcTransport transport) throws Exception {
        try (Chain chain = new Chain(transport);
                HttpClient user = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build()) {
            warmUp(user, chain);
            CompletableFuture<HttpResponse<String>> pending = user.sendAsync(
                    HttpRequest.newBuilder(chain.gatewayUri("/checkout?hang")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertTrue(chain.seen("inventory").entered.await(10, SECONDS));

            // Inventory's deadline (about 7.7 s in) passes; those of orders (9.8 s) and the gateway (9.95 s) do not.
            chain.time.advance(Duration.ofSeconds(8));

            HttpResponse<String> response = pending.get(10, SECONDS);
            assertEquals(504, response.statusCode(), response.body());
            String ended = response.headers().firstValue(WireHeaders.ENDED).orElse(null);
            assertNotNull(ended, "the gateway says why, in " + WireHeaders.ENDED);
            EndedEarly reason = EndedEarly.parse(ended);
            assertEquals(EndedEarly.Kind.DEADLINE_EXCEEDED, reason.kind());
            // gateway's reason: "orders ended the call early: deadline-exceeded: <inventory> ended the call early: ..."
            assertTrue(reason.reason().startsWith("orders ended the call early: deadline-exceeded: "), ended);
            assertTrue(reason.reason().contains("inventory.Inventory/Reserve ended the call early: deadline-exceeded"),
                    ended);
            assertInstanceOf(DeadlineExceededException.class, chain.seen("inventory").endCause);
            assertTrue(!response.body().contains("at dev.tether"), "no stack trace reaches the user");
            System.out.printf("chain (%s): user got %d, %s: %s%n", transport, response.statusCode(),
                    WireHeaders.ENDED, ended);
        }
    }

    @ParameterizedTest
    @EnumSource(GrpcTransport.class)
    void userGoingAwayStopsEveryHop(GrpcTransport transport) throws Exception {
        try (Chain chain = new Chain(transport);
                HttpClient user = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build()) {
            warmUp(user, chain);
            CompletableFuture<HttpResponse<String>> pending = user.sendAsync(
                    HttpRequest.newBuilder(chain.gatewayUri("/checkout?hang")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertTrue(chain.seen("inventory").entered.await(10, SECONDS));

            long start = System.nanoTime();
            pending.cancel(true);   // the JDK client resets the HTTP/2 stream

            for (String hop : new String[] {"gateway", "orders", "inventory"}) {
                assertTrue(chain.seen(hop).ended.await(5, SECONDS), hop + " stopped within 5 s");
                RequestEndedException cause = assertInstanceOf(RequestEndedException.class,
                        chain.seen(hop).endCause, hop);
                assertEquals(RequestEndedException.Why.CLIENT_DISCONNECTED, cause.why(), hop);
            }
            System.out.printf("chain (%s): the user's reset stopped all three hops in %.1f ms%n", transport,
                    (System.nanoTime() - start) / 1e6);
        }
    }

    @ParameterizedTest
    @EnumSource(GrpcTransport.class)
    void hostileHeadersAtTheGatewayAreClamped(GrpcTransport transport) throws Exception {
        try (Chain chain = new Chain(transport);
                HttpClient user = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build()) {
            warmUp(user, chain);

            HttpResponse<String> response = get(user, chain, "/checkout",
                    WireHeaders.BUDGET, "99999999H", WireHeaders.ORIGIN, "evil/\"><script>",
                    WireHeaders.ENVOY_TIMEOUT, "-5");

            assertEquals(200, response.statusCode(), response.body());
            Duration atGateway = Duration.ofSeconds(60).minus(Chain.SERVER_RESERVE);
            assertEquals(atGateway, chain.seen("gateway").budget, "capped by the gateway's maximum");
            assertEquals("gateway", chain.seen("gateway").origin.service(), "the cap is the gateway's deadline");
            assertEquals(chain.seen("gateway").origin, chain.seen("inventory").origin);
            assertTrue(chain.seen("inventory").budget.compareTo(atGateway) < 0);
        }
    }
}
