package dev.tether.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.Blocking;
import dev.tether.Context;
import dev.tether.DeadlineExceededException;
import dev.tether.httpclient.TetherHttpClient;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.EndedEarly;
import dev.tether.wire.InboundBudget;
import dev.tether.wire.InboundCall;
import dev.tether.wire.OutboundBudget;
import dev.tether.wire.PeerEndedException;
import dev.tether.wire.RequestEndedException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two real hops on loopback, client -> gateway -> orders, each a Jetty server behind {@link TetherHandler}, the
 * gateway calling orders through {@link TetherHttpClient} over h2c. Each test is bounded; bounds are seconds
 * against budgets of hundreds of milliseconds, so outcomes never hang on timing.
 */
@Timeout(60)
class TwoHopTest {

    private static final Duration GATEWAY_RESERVE = Duration.ofMillis(50);
    private static final Duration HOP_RESERVE = Duration.ofMillis(20);
    private static final Duration ORDERS_RESERVE = Duration.ofMillis(30);

    private HttpClient toGateway;
    private HttpClient toOrders;
    private TetherHttpClient orders;
    private Hop gatewayHop;
    private Hop ordersHop;
    private final AtomicReference<Hop.Work> ordersWork = new AtomicReference<>((call, request) -> "orders ok");
    private InboundBudget ordersPolicy = InboundBudget.builder().maxBudget(Duration.ofSeconds(20))
            .reserve(ORDERS_RESERVE).build();

    @BeforeEach
    void clients() {
        toGateway = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
        toOrders = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
        orders = TetherHttpClient.builder(toOrders)
                .budget(OutboundBudget.builder().perHopReserve(HOP_RESERVE).minBudget(Duration.ofMillis(5)).build())
                .peer("orders")
                .build();
    }

    @AfterEach
    void stop() throws Exception {
        if (gatewayHop != null) {
            gatewayHop.close();
        }
        if (ordersHop != null) {
            ordersHop.close();
        }
        toGateway.close();
        toOrders.close();
    }

    /** Starts both hops; the gateway forwards every request to orders' same path. */
    private void startChain(InboundBudget gatewayPolicy) throws Exception {
        ordersHop = Hop.builder("orders").policy(ordersPolicy).work((call, request) ->
                request.getHttpURI().getPath().equals("/warm-up") ? "warm" : ordersWork.get().handle(call, request))
                .start();
        // /warm-up goes to orders' /warm-up, everything else to /stock.
        gatewayHop = Hop.builder("gateway").policy(gatewayPolicy).work(Hop.forward(orders, request ->
                ordersHop.uri(request.getHttpURI().getPath().equals("/warm-up") ? "/warm-up" : "/stock"))).start();
        // Both connections upgrade to h2c on their first request; later requests are HTTP/2 streams.
        HttpResponse<String> warm = send("/warm-up");
        assertEquals(200, warm.statusCode(), warm.body());
        assertEquals(HttpClient.Version.HTTP_2, warm.version());
        gatewayHop.nextCall();
        ordersHop.nextCall();
    }

    private static InboundBudget gatewayPolicy() {
        return InboundBudget.builder().maxBudget(Duration.ofSeconds(5)).defaultBudget(Duration.ofSeconds(3))
                .reserve(GATEWAY_RESERVE).build();
    }

    private HttpResponse<String> send(String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(gatewayHop.uri(path)).timeout(Duration.ofSeconds(30));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return toGateway.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theBudgetReachesTheNextHopLessEachReserve() throws Exception {
        startChain(gatewayPolicy());

        HttpResponse<String> response = send("/checkout", "tether-budget", "2S");

        assertEquals("gateway -> orders ok", response.body());
        InboundCall atOrders = ordersHop.nextCall();
        InboundCall atGateway = gatewayHop.nextCall();
        System.out.println(Hop.report(atGateway));
        System.out.println(Hop.report(atOrders));
        assertEquals(Duration.ofMillis(1950), atGateway.budget().budget());
        Duration offered = atOrders.budget().offered();
        assertNotNull(offered);
        // 2 s less the gateway's reserve less the per-hop reserve, less what the gateway spent before calling.
        Duration ceiling = Duration.ofMillis(2000).minus(GATEWAY_RESERVE).minus(HOP_RESERVE);
        assertTrue(offered.compareTo(ceiling) <= 0, offered.toString());
        assertTrue(offered.compareTo(ceiling.minusSeconds(1)) > 0, offered.toString());
        assertEquals(offered.minus(ORDERS_RESERVE), atOrders.budget().budget());
        assertEquals(InboundBudget.Source.TETHER_BUDGET, atOrders.budget().source());
    }

    @Test
    void theNextHopsDeadlineNamesTheGatewayAsItsOrigin() throws Exception {
        AtomicReference<DeadlineOrigin> seen = new AtomicReference<>();
        ordersWork.set((call, request) -> {
            seen.set(DeadlineOrigin.from(Context.current()));
            return "ok";
        });
        startChain(gatewayPolicy());

        send("/checkout");

        DeadlineOrigin gateway = new DeadlineOrigin("gateway", "GET:/checkout");
        assertEquals(gateway, seen.get(), "the gateway's default set the deadline");
        assertEquals(gateway, ordersHop.nextCall().origin());
        assertEquals(gateway, gatewayHop.nextCall().origin());
    }

    @Test
    void anOriginFromFurtherUpPassesThroughTheGateway() throws Exception {
        AtomicReference<DeadlineOrigin> seen = new AtomicReference<>();
        ordersWork.set((call, request) -> {
            seen.set(DeadlineOrigin.from(Context.current()));
            return "ok";
        });
        startChain(gatewayPolicy());

        send("/checkout", "tether-budget", "1S", "tether-deadline-origin", "web/POST:/buy");

        assertEquals(new DeadlineOrigin("web", "POST:/buy"), seen.get());
    }

    @Test
    void aClientDisconnectAtTheGatewayCancelsTheWorkOnTheNextHop() throws Exception {
        CountDownLatch ordersWorking = new CountDownLatch(1);
        CountDownLatch ordersStopped = new CountDownLatch(1);
        AtomicReference<Throwable> ordersCause = new AtomicReference<>();
        AtomicLong stoppedAt = new AtomicLong();
        ordersWork.set((call, request) -> {
            ordersWorking.countDown();
            try {
                Blocking.sleep(Context.current(), Duration.ofSeconds(30)); // long work, cut short by the context
                return "never";
            } finally {
                stoppedAt.set(System.nanoTime());
                ordersCause.set(Context.current().cause());
                ordersStopped.countDown();
            }
        });
        startChain(gatewayPolicy());
        CompletableFuture<HttpResponse<String>> pending = toGateway.sendAsync(
                HttpRequest.newBuilder(gatewayHop.uri("/checkout")).header("tether-budget", "30S").build(),
                HttpResponse.BodyHandlers.ofString());
        assertTrue(ordersWorking.await(10, TimeUnit.SECONDS));

        long cancelledAt = System.nanoTime();
        pending.cancel(true); // the client resets its HTTP/2 stream to the gateway

        assertTrue(ordersStopped.await(5, TimeUnit.SECONDS), "orders stopped within the bound");
        RequestEndedException atOrders = assertInstanceOf(RequestEndedException.class, ordersCause.get());
        assertEquals(RequestEndedException.Why.CLIENT_DISCONNECTED, atOrders.why(),
                "the gateway's abort reached orders as a disconnect");
        InboundCall gateway = gatewayHop.nextCall("GET:/checkout");
        assertEquals(RequestEndedException.Why.CLIENT_DISCONNECTED,
                ((RequestEndedException) gateway.context().cause()).why());
        System.out.printf("client reset -> orders stopped in %.1f ms%n", (stoppedAt.get() - cancelledAt) / 1e6);
    }

    @Test
    void aTimeoutAtTheNextHopSurfacesAtTheGatewayWithTheCauseChain() throws Exception {
        ordersPolicy = InboundBudget.builder().maxBudget(Duration.ofMillis(300)).reserve(ORDERS_RESERVE).build();
        CountDownLatch ordersFreed = new CountDownLatch(1);
        ordersWork.set((call, request) -> {
            try {
                new CountDownLatch(1).await(); // hung: only the budget will end this
                return "never";
            } finally {
                ordersFreed.countDown();
            }
        });
        startChain(gatewayPolicy());

        HttpResponse<String> response = send("/checkout", "tether-budget", "4S");

        assertEquals(504, response.statusCode());
        EndedEarly ended = EndedEarly.parse(response.headers().firstValue("tether-ended").orElseThrow());
        assertEquals(EndedEarly.Kind.DEADLINE_EXCEEDED, ended.kind());
        assertEquals("orders ended the call early: deadline-exceeded: budget 270ms from orders/GET:/stock ran out "
                + "at orders/GET:/stock", ended.reason());
        InboundCall gateway = gatewayHop.nextCall("GET:/checkout");
        PeerEndedException cause = assertInstanceOf(PeerEndedException.class, gateway.context().cause());
        assertEquals("orders", cause.peer());
        assertFalse(gateway.isEndedEarly(), "the gateway's own budget had time left");
        InboundCall atOrders = ordersHop.nextCall("GET:/stock");
        assertTrue(atOrders.isEndedEarly());
        assertTrue(atOrders.budget().capped(), "orders' own maximum capped the gateway's budget");
        assertTrue(atOrders.interruptedHandler());
        assertTrue(ordersFreed.await(5, TimeUnit.SECONDS), "orders' hung thread was freed");
        System.out.println(Hop.report(gateway));
        System.out.println(Hop.report(atOrders));
    }

    @Test
    void hostileHeadersAreClampedBeforeTheBudgetTravelsOn() throws Exception {
        startChain(gatewayPolicy());

        send("/checkout", "tether-budget", "99999999H", "tether-deadline-origin", "attacker/forever");

        InboundCall atOrders = ordersHop.nextCall();
        InboundCall atGateway = gatewayHop.nextCall();
        assertTrue(atGateway.budget().capped());
        assertEquals(Duration.ofMillis(4950), atGateway.budget().budget());
        assertEquals(new DeadlineOrigin("gateway", "GET:/checkout"), atOrders.origin(),
                "the capped deadline is the gateway's, not the caller's claim");
        assertTrue(atOrders.budget().offered().compareTo(Duration.ofMillis(4930)) <= 0);

        send("/checkout", "tether-budget", "-5m", "grpc-timeout", "123456789m");

        InboundCall malformed = gatewayHop.nextCall();
        assertEquals(InboundBudget.Source.SERVER_DEFAULT, malformed.budget().source());
        assertEquals(2, malformed.budget().notes().size(), malformed.budget().notes().toString());
        ordersHop.nextCall();
    }

    @Test
    void aHungGatewayHandlerStillAnswers504InTimeAndItsThreadIsFreed() throws Exception {
        CountDownLatch gatewayFreed = new CountDownLatch(1);
        AtomicReference<Throwable> gatewaySaw = new AtomicReference<>();
        ordersHop = Hop.builder("orders").policy(ordersPolicy).work((call, request) -> "stock").start();
        gatewayHop = Hop.builder("gateway").policy(gatewayPolicy()).work((call, request) -> {
            orders.send(HttpRequest.newBuilder(ordersHop.uri("/stock")).build(), HttpResponse.BodyHandlers.ofString());
            try {
                new CountDownLatch(1).await(); // hung after its downstream call: only the budget will end this
                return "never";
            } catch (InterruptedException e) {
                gatewaySaw.set(e);
                throw e;
            } finally {
                gatewayFreed.countDown();
            }
        }).start();
        long start = System.nanoTime();

        HttpResponse<String> response = send("/checkout", "tether-budget", "400m");

        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(504, response.statusCode());
        assertTrue(tookMillis < 5_000, "504 after " + tookMillis + " ms");
        assertEquals("deadline-exceeded; reason=\"budget 350ms from peer/tether-budget ran out at "
                + "gateway/GET:/checkout\"", response.headers().firstValue("tether-ended").orElseThrow());
        assertTrue(gatewayFreed.await(5, TimeUnit.SECONDS), "the gateway's handler thread was freed");
        assertInstanceOf(InterruptedException.class, gatewaySaw.get());
        InboundCall gateway = gatewayHop.nextCall("GET:/checkout");
        assertTrue(gateway.isEndedEarly());
        assertTrue(gateway.interruptedHandler());
        assertInstanceOf(DeadlineExceededException.class, gateway.context().err());
        assertFalse(ordersHop.nextCall("GET:/stock").isEndedEarly(), "orders answered in time");
    }
}
