package dev.tether.grpc;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.util.concurrent.ListenableFuture;
import dev.tether.Blocking;
import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ContextDoneException;
import dev.tether.ManualTimeSource;
import dev.tether.grpc.Harness.Transport;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.EndedEarly;
import dev.tether.wire.InboundBudget;
import dev.tether.wire.OutboundBudget;
import dev.tether.wire.PeerEndedException;
import dev.tether.wire.RequestEndedException;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A chain of two gRPC services, gateway -> front -> back, every hop with both interceptors, all on one manual
 * clock: the gateway's budget reaches the back less every reserve and names the gateway as its origin; a
 * timeout at the back surfaces at the gateway with the reason of every hop; the gateway cancelling reaches the back.
 */
@Timeout(30)
class TwoHopChainTest {

    private static final DeadlineOrigin GATEWAY = new DeadlineOrigin("gateway", "POST:/checkout");

    private final ManualTimeSource time = ManualTimeSource.create();
    // One instance: gRPC compares deadlines only when they were made on the very same ticker.
    private final Deadline.Ticker manualTicker = Harness.ticker(time);
    private final CountDownLatch backEntered = new CountDownLatch(1);
    private final CountDownLatch backEnded = new CountDownLatch(1);
    private final AtomicReference<Duration> backBudget = new AtomicReference<>();
    private final AtomicReference<DeadlineOrigin> backOrigin = new AtomicReference<>();
    private final AtomicReference<Throwable> backCause = new AtomicReference<>();

    /** The one ticker gRPC deadlines are made with: the manual clock in process, the system's over Netty. */
    private Deadline.Ticker ticker(Transport transport) {
        return transport == Transport.IN_PROCESS ? manualTicker : Deadline.getSystemTicker();
    }

    private TetherClientInterceptor client(String service, Transport transport) {
        return TetherClientInterceptor.builder(service)
                .budget(OutboundBudget.builder().perHopReserve(Duration.ofMillis(100)).build())
                .ticker(ticker(transport)).build();
    }

    private Harness.Builder hop(Transport transport, io.grpc.stub.ServerCalls.UnaryMethod<String, String> handler,
            String service, Duration reserve) {
        Harness.Builder b = Harness.builder(transport, Echo.service(handler))
                .intercept(TetherServerInterceptor.builder(service)
                        .budget(InboundBudget.builder().maxBudget(Duration.ofSeconds(60)).reserve(reserve).build())
                        .parent(Context.root(time)).build());
        return transport == Transport.IN_PROCESS ? b.ticker(manualTicker) : b;
    }

    /** The back service: records its budget and origin, then waits on its request context until it ends. */
    private void back(String request, io.grpc.stub.StreamObserver<String> reply) {
        Context ctx = Context.current();
        backBudget.set(ctx.remaining().orElseThrow());
        backOrigin.set(DeadlineOrigin.from(ctx));
        backEntered.countDown();
        try {
            Blocking.await(ctx, new CompletableFuture<Void>());
        } catch (ExecutionException e) {
            throw new AssertionError(e);
        } catch (ContextDoneException e) {
            backCause.set(ctx.cause());
            backEnded.countDown();
            throw e;
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void timeoutAtTheBackSurfacesAtTheGatewayWithEveryHopsReason(Transport transport) throws Exception {
        // Reserves: gateway's client 100 ms, front's server 50 ms, front's client 100 ms, back's server 2 s.
        try (Harness back = hop(transport, this::back, "back", Duration.ofSeconds(2)).start();
                Harness front = hop(transport, (request, reply) -> {
                    // Plain blocking gRPC call: the interceptor takes the budget from the request context.
                    String answer = ClientCalls.blockingUnaryCall(back.channel(client("front", transport)),
                            Echo.UNARY, CallOptions.DEFAULT, request);
                    reply.onNext(answer);
                    reply.onCompleted();
                }, "front", Duration.ofMillis(50)).start();
                CancellableContext request = Context.root(time).withTimeout(Duration.ofSeconds(10))) {
            Channel channel = front.channel(client("gateway", transport));
            ListenableFuture<String> reply = GATEWAY.bindTo(request).call(
                    () -> ClientCalls.futureUnaryCall(channel.newCall(Echo.UNARY, CallOptions.DEFAULT), "order"));
            assertTrue(backEntered.await(10, SECONDS));
            Duration expected = Duration.ofMillis(10_000 - 100 - 50 - 100 - 2_000);
            if (transport == Transport.IN_PROCESS) {
                assertEquals(expected, backBudget.get());
            } else {
                assertTrue(backBudget.get().compareTo(expected) <= 0, backBudget.get().toString());
            }
            assertEquals(GATEWAY, backOrigin.get(), "the last hop names the gateway as the deadline's origin");

            // The back's deadline passes (about 7.75 s in); the front's (9.85 s) and the gateway's (10 s) do not.
            time.advance(Duration.ofSeconds(8));

            ExecutionException failed = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> reply.get(10, SECONDS));
            StatusRuntimeException e = assertInstanceOf(StatusRuntimeException.class, failed.getCause());
            assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
            PeerEndedException frontEnded = assertInstanceOf(PeerEndedException.class, e.getCause());
            assertEquals(EndedEarly.Kind.DEADLINE_EXCEEDED, frontEnded.ended().kind());
            String reason = frontEnded.ended().reason();
            // "<back> ended the call early: deadline-exceeded: context deadline exceeded (budget 7750ms; deadline
            // set by gateway/POST:/checkout)", as the front passed it on.
            assertTrue(reason.contains("/test.Echo/Unary ended the call early: deadline-exceeded: "
                    + "context deadline exceeded (budget "), reason);
            assertTrue(reason.endsWith("deadline set by gateway/POST:/checkout)"), reason);
            assertNull(request.err(), "the gateway still has its own reserve to answer with");
            assertTrue(backEnded.await(5, SECONDS));
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void gatewayCancelReachesTheBack(Transport transport) throws Exception {
        try (Harness back = hop(transport, this::back, "back", Duration.ofMillis(50)).start();
                Harness front = hop(transport, (request, reply) -> {
                    reply.onNext(ClientCalls.blockingUnaryCall(back.channel(client("front", transport)),
                            Echo.UNARY, CallOptions.DEFAULT, request));
                    reply.onCompleted();
                }, "front", Duration.ofMillis(50)).start();
                CancellableContext request = Context.root(time).withTimeout(Duration.ofSeconds(10))) {
            Channel channel = front.channel(client("gateway", transport));
            ListenableFuture<String> reply = request.call(
                    () -> ClientCalls.futureUnaryCall(channel.newCall(Echo.UNARY, CallOptions.DEFAULT), "order"));
            assertTrue(backEntered.await(10, SECONDS));

            request.cancel(new IllegalStateException("client disconnected from the gateway"));

            assertTrue(backEnded.await(5, SECONDS), "the cancel crossed two hops within 5 s");
            assertEquals(RequestEndedException.Why.CLIENT_DISCONNECTED,
                    assertInstanceOf(RequestEndedException.class, backCause.get()).why());
            ExecutionException failed = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> reply.get(10, SECONDS));
            StatusRuntimeException e = assertInstanceOf(StatusRuntimeException.class, failed.getCause());
            assertEquals(Status.Code.CANCELLED, e.getStatus().getCode());
            assertSame(request.err(), e.getCause());
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void plainGrpcCallsOfAHandlerStopWhenItsRequestEnds(Transport transport) throws Exception {
        // The back knows nothing of Tether, and the front calls it with plain gRPC (no Tether interceptor): gRPC's
        // own propagation through io.grpc.Context carries the end of the front's request context.
        CountDownLatch backCancelled = new CountDownLatch(1);
        io.grpc.stub.ServerCalls.UnaryMethod<String, String> plainBack = (request, reply) -> {
            io.grpc.Context.current().addListener(c -> backCancelled.countDown(), Runnable::run);
            backEntered.countDown();
        };
        InboundBudget frontPolicy = InboundBudget.builder().maxBudget(Duration.ofSeconds(5)).build();
        try (Harness back = Harness.builder(transport, Echo.service(plainBack)).start();
                Harness front = Harness.builder(transport, Echo.service((request, reply) -> {
                    reply.onNext(ClientCalls.blockingUnaryCall(back.channel(), Echo.UNARY, CallOptions.DEFAULT,
                            request));
                    reply.onCompleted();
                })).intercept(TetherServerInterceptor.builder("front").budget(frontPolicy)
                        .parent(Context.root(time)).build()).start()) {
            ListenableFuture<String> reply = ClientCalls.futureUnaryCall(
                    front.channel().newCall(Echo.UNARY, CallOptions.DEFAULT), "order");
            assertTrue(backEntered.await(10, SECONDS));

            time.advance(Duration.ofSeconds(5));   // the front's request context ends

            assertTrue(backCancelled.await(5, SECONDS), "the back's call was cancelled within 5 s");
            ExecutionException failed = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> reply.get(10, SECONDS));
            StatusRuntimeException e = assertInstanceOf(StatusRuntimeException.class, failed.getCause());
            assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        }
    }
}
