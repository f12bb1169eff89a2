package dev.tether.chain;

import dev.tether.Blocking;
import dev.tether.Context;
import dev.tether.ManualTimeSource;
import dev.tether.grpc.TetherClientInterceptor;
import dev.tether.grpc.TetherServerInterceptor;
import dev.tether.httpclient.TetherHttpClient;
import dev.tether.jetty.TetherHandler;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.InboundBudget;
import dev.tether.wire.OutboundBudget;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Deadline;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Invocable;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.jspecify.annotations.Nullable;

/**
 * Three services on loopback, every one with Tether's integration and all measuring their contexts on one manual
 * clock: {@code gateway} (Jetty, HTTP/1.1 and h2c) calls {@code orders} over HTTP with {@link TetherHttpClient};
 * {@code orders} (Jetty) calls {@code inventory} over gRPC (Netty on a loopback port, or in process) with
 * {@link TetherClientInterceptor}; {@code inventory} serves gRPC behind {@link TetherServerInterceptor}. Each hop
 * records what its handler saw: the budget it received, the origin, and how its context ended.
 *
 * <p>Reserves: each server keeps {@link #SERVER_RESERVE} back, each client {@link #CLIENT_RESERVE}; inventory
 * keeps {@link #INVENTORY_RESERVE}, more than the others, so that its deadline passes first.
 */
final class Chain implements AutoCloseable {

    enum GrpcTransport { NETTY, IN_PROCESS }

    static final Duration SERVER_RESERVE = Duration.ofMillis(50);
    static final Duration CLIENT_RESERVE = Duration.ofMillis(100);
    static final Duration INVENTORY_RESERVE = Duration.ofSeconds(2);
    static final Duration GATEWAY_BUDGET = Duration.ofSeconds(10);

    static final DeadlineOrigin GATEWAY_ORIGIN = new DeadlineOrigin("gateway", "GET:/checkout");

    private static final MethodDescriptor.Marshaller<String> UTF8 = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    static final MethodDescriptor<String, String> RESERVE = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName("inventory.Inventory/Reserve")
            .setRequestMarshaller(UTF8)
            .setResponseMarshaller(UTF8)
            .build();

    /** What one hop's handler saw. */
    static final class Seen {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch ended = new CountDownLatch(1);
        volatile @Nullable Duration budget;
        volatile @Nullable DeadlineOrigin origin;
        volatile @Nullable Throwable endCause;

        /** Called by the handler under its request context. */
        void enter() {
            Context ctx = Context.current();
            budget = ctx.remaining().orElse(null);
            origin = DeadlineOrigin.from(ctx);
            ctx.onDone(() -> {
                endCause = ctx.cause();
                ended.countDown();
            }, Runnable::run);
            entered.countDown();
        }
    }

    final ManualTimeSource time = ManualTimeSource.create();
    final Map<String, Seen> seen = new ConcurrentHashMap<>();
    private final io.grpc.Server inventory;
    private final ManagedChannel inventoryChannel;
    private final Server orders;
    private final Server gateway;
    private final HttpClient gatewayToOrders;

    Chain(GrpcTransport transport) throws Exception {
        Context root = Context.root(time);
        // gRPC measures its own deadlines with a ticker; in process both ends can follow the manual clock.
        Deadline.Ticker ticker = transport == GrpcTransport.IN_PROCESS ? new Deadline.Ticker() {
            @Override
            public long nanoTime() {
                return time.nanoTime();
            }
        } : Deadline.getSystemTicker();

        ServerServiceDefinition service = ServerServiceDefinition.builder("inventory.Inventory")
                .addMethod(RESERVE, ServerCalls.<String, String>asyncUnaryCall((item, reply) -> {
                    seen("inventory").enter();
                    if (item.equals("hang")) {
                        awaitEnd();   // throws the context's error when it ends
                    }
                    reply.onNext("reserved " + item);
                    reply.onCompleted();
                }))
                .build();
        ServerServiceDefinition intercepted = ServerInterceptors.intercept(service,
                TetherServerInterceptor.builder("inventory").parent(root)
                        .budget(InboundBudget.builder().maxBudget(Duration.ofSeconds(60)).reserve(INVENTORY_RESERVE)
                                .build())
                        .build());
        if (transport == GrpcTransport.IN_PROCESS) {
            String name = "chain-inventory-" + System.identityHashCode(this);
            inventory = InProcessServerBuilder.forName(name).deadlineTicker(ticker).addService(intercepted).build()
                    .start();
            inventoryChannel = InProcessChannelBuilder.forName(name).build();
        } else {
            inventory = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                    .addService(intercepted).build().start();
            inventoryChannel = NettyChannelBuilder.forAddress(
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), inventory.getPort())).usePlaintext().build();
        }
        Channel toInventory = ClientInterceptors.intercept(inventoryChannel,
                TetherClientInterceptor.builder("orders").ticker(ticker)
                        .budget(OutboundBudget.builder().perHopReserve(CLIENT_RESERVE).build()).build());

        orders = jetty("orders", root, (request) -> {
            seen("orders").enter();
            String item = request.getHttpURI().getQuery() == null ? "book" : request.getHttpURI().getQuery();
            return ClientCalls.blockingUnaryCall(toInventory, RESERVE, CallOptions.DEFAULT, item);
        });

        gatewayToOrders = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
        TetherHttpClient ordersClient = TetherHttpClient.builder(gatewayToOrders).peer("orders")
                .budget(OutboundBudget.builder().perHopReserve(CLIENT_RESERVE).build()).build();
        URI ordersUri = uri(orders, "/reserve");
        gateway = jetty("gateway", root, (request) -> {
            seen("gateway").enter();
            String query = request.getHttpURI().getQuery();
            URI target = query == null ? ordersUri : URI.create(ordersUri + "?" + query);
            return ordersClient.send(HttpRequest.newBuilder(target).build(), HttpResponse.BodyHandlers.ofString())
                    .body();
        });
    }

    Seen seen(String hop) {
        return seen.computeIfAbsent(hop, h -> new Seen());
    }

    /** Forgets what the hops saw, after a warm-up call. */
    void forget() {
        seen.clear();
    }

    URI gatewayUri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + port(gateway) + pathAndQuery);
    }

    private static void awaitEnd() {
        try {
            Blocking.await(Context.current(), new CompletableFuture<Void>());
        } catch (ExecutionException e) {
            throw new AssertionError(e);
        }
    }

    @FunctionalInterface
    private interface Work {
        String handle(Request request) throws Exception;
    }

    private static Server jetty(String name, Context root, Work work) throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool(32, 4);
        threads.setName("chain-" + name);
        Server server = new Server(threads);
        HttpConfiguration config = new HttpConfiguration();
        config.setSendServerVersion(false);
        ServerConnector connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(config),
                new HTTP2CServerConnectionFactory(config));
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        Handler handler = new Handler.Abstract(Invocable.InvocationType.BLOCKING) {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                String body = work.handle(request);
                response.getHeaders().put("content-type", "text/plain; charset=utf-8");
                Content.Sink.write(response, true, body, callback);
                return true;
            }
        };
        InboundBudget policy = InboundBudget.builder().maxBudget(Duration.ofSeconds(60))
                .defaultBudget(GATEWAY_BUDGET).reserve(SERVER_RESERVE).build();
        server.setHandler(TetherHandler.builder(name).policy(policy).parent(root).build(handler));
        server.start();
        return server;
    }

    private static int port(Server server) {
        return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    }

    private static URI uri(Server server, String path) {
        return URI.create("http://127.0.0.1:" + port(server) + path);
    }

    @Override
    public void close() throws Exception {
        gatewayToOrders.shutdownNow();
        gateway.stop();
        orders.stop();
        inventoryChannel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        inventory.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
}
