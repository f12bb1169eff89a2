package dev.tether.examples;

import dev.tether.Context;
import dev.tether.grpc.TetherClientInterceptor;
import dev.tether.httpclient.TetherHttpClient;
import dev.tether.wire.InboundBudget;
import dev.tether.wire.OutboundBudget;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.opentelemetry.api.trace.Tracer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The chain demo's three services, in this process on loopback ports, each with Tether's integration:
 * {@code gateway} (Jetty, h2c) calls {@code orders} (Jetty, h2c) with tether-httpclient's {@link TetherHttpClient};
 * {@code orders} calls {@code inventory} (gRPC on Netty) through tether-grpc's {@link TetherClientInterceptor};
 * {@code inventory} reserves stock in the database. Plus the client: the JDK's plain {@link HttpClient} on HTTP/2,
 * which knows nothing of Tether.
 *
 * <p>Budgets: the gateway gives every request {@link #GATEWAY_BUDGET}; each server keeps {@link #SERVER_RESERVE}
 * back to answer in time, inventory {@link #INVENTORY_RESERVE}; each client keeps {@link #CLIENT_RESERVE} per hop
 * for the answer's way back. So the last hop's deadline passes first, and its reason travels up the chain.
 */
final class Chain implements AutoCloseable {

    static final Duration GATEWAY_BUDGET = Duration.ofSeconds(2);
    static final Duration SERVER_RESERVE = Duration.ofMillis(50);
    static final Duration INVENTORY_RESERVE = Duration.ofMillis(250);
    static final Duration CLIENT_RESERVE = Duration.ofMillis(100);
    private static final Duration SERVER_MAX = Duration.ofSeconds(10);

    final Inventory inventory;
    final HttpHop orders;
    final HttpHop gateway;
    /** The demo's client: plain JDK HttpClient, HTTP/2. */
    final HttpClient user;
    private final ManagedChannel inventoryChannel;
    private final HttpClient gatewayToOrders;

    private Chain(Context gatewayServer, Context ordersServer, Context inventoryServer, StockDatabase db,
            Tracer tracer, boolean leaky) throws Exception {
        inventory = Inventory.start(inventoryServer, InboundBudget.builder().maxBudget(SERVER_MAX)
                .defaultBudget(SERVER_MAX).reserve(INVENTORY_RESERVE).build(), db, tracer, leaky);
        inventoryChannel = NettyChannelBuilder.forAddress(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), inventory.port()))
                .overrideAuthority(Inventory.SERVICE)   // how reasons name the peer: inventory/<method>
                .usePlaintext().build();
        Channel toInventory = ClientInterceptors.intercept(inventoryChannel, TetherClientInterceptor.builder("orders")
                .budget(OutboundBudget.builder().perHopReserve(CLIENT_RESERVE).build()).build());
        orders = HttpHop.start("orders", ordersServer, InboundBudget.builder().maxBudget(SERVER_MAX)
                .defaultBudget(SERVER_MAX).reserve(SERVER_RESERVE).build(), tracer, ordersWork(toInventory));

        gatewayToOrders = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
        TetherHttpClient ordersClient = TetherHttpClient.builder(gatewayToOrders).peer("orders")
                .budget(OutboundBudget.builder().perHopReserve(CLIENT_RESERVE).build()).build();
        gateway = HttpHop.start("gateway", gatewayServer, InboundBudget.builder().maxBudget(GATEWAY_BUDGET)
                .defaultBudget(GATEWAY_BUDGET).reserve(SERVER_RESERVE).build(), tracer,
                gatewayWork(ordersClient, orders));
        user = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
    }

    /**
     * Starts the three services. Each server's context is the parent of its requests' contexts: cancelling it
     * ends them all (shutdown).
     */
    static Chain start(Context gatewayServer, Context ordersServer, Context inventoryServer, StockDatabase db,
            Tracer tracer, boolean leaky) throws Exception {
        return new Chain(gatewayServer, ordersServer, inventoryServer, db, tracer, leaky);
    }

    /** The gateway: places the order with {@code orders} over HTTP, under the request's context. */
    private static HttpHop.Work gatewayWork(TetherHttpClient ordersClient, HttpHop orders) {
        return order -> {
            // Sends the request's remaining budget less the reserve, and the origin; a tether-ended answer throws.
            HttpResponse<String> answer = ordersClient.send(
                    HttpRequest.newBuilder(orders.uri("/reserve?" + order.query())).build(),
                    HttpResponse.BodyHandlers.ofString());
            String body = answer.body().strip();
            return new HttpHop.Answer(answer.statusCode(), answer.statusCode() == 200 ? "order placed: " + body : body);
        };
    }

    /** Orders: reserves the stock with {@code inventory} over gRPC, under the request's context. */
    private static HttpHop.Work ordersWork(Channel toInventory) {
        // The interceptor turns the request's remaining budget into the call's deadline and cancels the call when
        // the request's context ends; a tether-ended trailer becomes a PeerEndedException, a 504 here.
        return order -> new HttpHop.Answer(200,
                ClientCalls.blockingUnaryCall(toInventory, Inventory.RESERVE, CallOptions.DEFAULT, order.wire()));
    }

    /** A GET of the gateway's {@code /checkout} for {@code order}. */
    HttpRequest checkout(Order order) {
        return HttpRequest.newBuilder(gateway.uri("/checkout?" + order.query())).build();
    }

    /** Forgets what the hops recorded so far. */
    void forget() {
        gateway.forget();
        orders.forget();
        inventory.forget();
    }

    @Override
    public void close() {
        user.shutdownNow();
        gatewayToOrders.shutdownNow();
        gateway.close();
        orders.close();
        try {
            inventoryChannel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        inventory.close();
    }
}
