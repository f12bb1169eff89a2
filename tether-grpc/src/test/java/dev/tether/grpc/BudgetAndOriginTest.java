package dev.tether.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ContextCancelledException;
import dev.tether.DeadlineExceededException;
import dev.tether.ManualTimeSource;
import dev.tether.grpc.Harness.Transport;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.InboundBudget;
import dev.tether.wire.OutboundBudget;
import dev.tether.wire.PeerEndedException;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The budget and the origin a handler gets, over the in-process transport and over Netty on loopback. */
@Timeout(30)
class BudgetAndOriginTest {

    private static final DeadlineOrigin GATEWAY = new DeadlineOrigin("gateway", "POST:/checkout");

    private final ManualTimeSource time = ManualTimeSource.create();
    private final Deadline.Ticker ticker = Harness.ticker(time);
    private final AtomicReference<Duration> remaining = new AtomicReference<>();
    private final AtomicReference<DeadlineOrigin> origin = new AtomicReference<>();
    private final AtomicReference<Deadline> grpcDeadline = new AtomicReference<>();
    private final AtomicInteger handled = new AtomicInteger();

    @AfterEach
    void currentContextIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
    }

    /** A server whose handler records what it was given, measuring its request contexts on {@link #time}. */
    private Harness server(Transport transport, InboundBudget policy) {
        return Harness.builder(transport, Echo.service((request, reply) -> {
            Context ctx = Context.current();
            handled.incrementAndGet();
            remaining.set(ctx.remaining().orElse(null));
            origin.set(DeadlineOrigin.from(ctx));
            grpcDeadline.set(io.grpc.Context.current().getDeadline());
            reply.onNext("ok");
            reply.onCompleted();
        })).ticker(ticker).intercept(TetherServerInterceptor.builder("orders").budget(policy)
                .parent(Context.root(time)).build()).start();
    }

    private TetherClientInterceptor client(Duration reserve) {
        return TetherClientInterceptor.builder("gateway")
                .budget(OutboundBudget.builder().perHopReserve(reserve).minBudget(Duration.ofMillis(1)).build())
                .ticker(ticker).build();
    }

    private static InboundBudget policy(Duration max, Duration reserve) {
        return InboundBudget.builder().maxBudget(max).reserve(reserve).minBudget(Duration.ofMillis(1)).build();
    }

    private static String call(Channel channel, CallOptions options) {
        return ClientCalls.blockingUnaryCall(channel, Echo.UNARY, options, "hi");
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void budgetReachesHandlerLessBothReserves(Transport transport) throws Exception {
        try (Harness h = server(transport, policy(Duration.ofSeconds(60), Duration.ofMillis(50)));
                CancellableContext request = Context.root(time).withTimeout(Duration.ofSeconds(10))) {
            Channel channel = h.channel(client(Duration.ofMillis(100)));

            String reply = GATEWAY.bindTo(request).call(() -> call(channel, CallOptions.DEFAULT));

            assertEquals("ok", reply);
            Duration expected = Duration.ofMillis(10_000 - 100 - 50);
            if (transport == Transport.IN_PROCESS) {
                // Both ends read the same manual clock: nothing is lost in transit.
                assertEquals(expected, remaining.get());
            } else {
                // Netty's server measures gRPC's deadline on the system clock: transit time comes off.
                assertTrue(remaining.get().compareTo(expected) <= 0, remaining.get() + " <= " + expected);
                assertTrue(remaining.get().compareTo(expected.minusSeconds(5)) > 0, remaining.get().toString());
            }
            assertEquals(GATEWAY, origin.get());
            assertNotNull(grpcDeadline.get(), "gRPC's own deadline is there for gRPC code");
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void serverMaximumCapsAHugeDeadline(Transport transport) throws Exception {
        try (Harness h = server(transport, policy(Duration.ofSeconds(5), Duration.ofMillis(50)));
                CancellableContext request = Context.root(time).withTimeout(Duration.ofHours(1000))) {
            Channel channel = h.channel(client(Duration.ofMillis(100)));

            GATEWAY.bindTo(request).call(() -> call(channel, CallOptions.DEFAULT));

            assertEquals(Duration.ofMillis(5000 - 50), remaining.get());
            assertEquals(new DeadlineOrigin("orders", "test.Echo/Unary"), origin.get(),
                    "the server's own cap set the deadline, so the server is its origin");
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void clientNamesItselfWhenNoOriginIsBound(Transport transport) throws Exception {
        try (Harness h = server(transport, policy(Duration.ofSeconds(60), Duration.ZERO));
                CancellableContext request = Context.root(time).withTimeout(Duration.ofSeconds(10))) {
            Channel channel = h.channel(client(Duration.ZERO));

            request.call(() -> call(channel, CallOptions.DEFAULT));

            assertEquals(new DeadlineOrigin("gateway", "test.Echo/Unary"), origin.get());
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void tighterDeadlineOfTheCallWinsAndNamesTheClient(Transport transport) throws Exception {
        try (Harness h = server(transport, policy(Duration.ofSeconds(60), Duration.ZERO));
                CancellableContext request = Context.root(time).withTimeout(Duration.ofSeconds(10))) {
            Channel channel = h.channel(client(Duration.ZERO));
            CallOptions own = CallOptions.DEFAULT.withDeadline(Deadline.after(2, TimeUnit.SECONDS, ticker));

            GATEWAY.bindTo(request).call(() -> call(channel, own));

            if (transport == Transport.IN_PROCESS) {
                assertEquals(Duration.ofSeconds(2), remaining.get());
            } else {
                assertTrue(remaining.get().compareTo(Duration.ofSeconds(2)) <= 0, remaining.get().toString());
            }
            assertEquals(new DeadlineOrigin("gateway", "test.Echo/Unary"), origin.get(),
                    "the gateway's deadline is not the one in force");
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void callWithoutDeadlineGetsTheServerDefault(Transport transport) {
        InboundBudget policy = InboundBudget.builder().maxBudget(Duration.ofSeconds(60))
                .defaultBudget(Duration.ofSeconds(2)).reserve(Duration.ofMillis(50)).build();
        try (Harness h = server(transport, policy)) {
            Channel channel = h.channel(client(Duration.ofMillis(100)));

            call(channel, CallOptions.DEFAULT);

            assertEquals(Duration.ofMillis(2000 - 50), remaining.get());
            assertEquals(new DeadlineOrigin("orders", "test.Echo/Unary"), origin.get());
            assertEquals(null, grpcDeadline.get());
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void clientFailsFastWithoutStartingWhenBudgetIsBelowMinimum(Transport transport) throws Exception {
        try (Harness h = server(transport, policy(Duration.ofSeconds(60), Duration.ZERO));
                CancellableContext request = Context.root(time).withTimeout(Duration.ofMillis(3))) {
            Channel channel = h.channel(client(Duration.ofMillis(5)));

            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> GATEWAY.bindTo(request).call(() -> call(channel, CallOptions.DEFAULT)));

            assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
            DeadlineExceededException cause = assertInstanceOf(DeadlineExceededException.class, e.getCause());
            assertTrue(cause.getMessage().contains("below the minimum"), cause.getMessage());
            assertTrue(e.getStatus().getDescription().contains("deadline set by gateway/POST:/checkout"),
                    e.getStatus().getDescription());
            assertEquals(0, handled.get(), "nothing was sent");
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void clientFailsFastWhenTheContextIsAlreadyDone(Transport transport) throws Exception {
        try (Harness h = server(transport, policy(Duration.ofSeconds(60), Duration.ZERO));
                CancellableContext request = Context.root(time).withCancel()) {
            Channel channel = h.channel(client(Duration.ZERO));
            request.cancel(new IllegalStateException("user went away"));

            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> request.call(() -> call(channel, CallOptions.DEFAULT)));

            assertEquals(Status.Code.CANCELLED, e.getStatus().getCode());
            assertSame(request.err(), e.getCause());
            assertInstanceOf(ContextCancelledException.class, e.getCause());
            assertEquals("user went away", e.getCause().getCause().getMessage());
            assertEquals(0, handled.get());
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void serverDoesNotStartHandlerWhenBudgetIsBelowItsMinimum(Transport transport) throws Exception {
        // The server keeps 5 s for its response out of the 2 s offered: nothing is left for the handler. (Generous
        // numbers, so the client's own deadline, which gRPC times on the system clock, cannot fire first.)
        try (Harness h = server(transport, policy(Duration.ofSeconds(60), Duration.ofSeconds(5)));
                CancellableContext request = Context.root(time).withTimeout(Duration.ofSeconds(2))) {
            Channel channel = h.channel(client(Duration.ZERO));

            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> request.call(() -> call(channel, CallOptions.DEFAULT)));

            assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
            PeerEndedException peer = assertInstanceOf(PeerEndedException.class, e.getCause());
            assertTrue(peer.ended().reason().contains("below the server's minimum"), peer.ended().reason());
            assertTrue(peer.peer().endsWith("/test.Echo/Unary"), peer.peer());
            assertEquals(0, handled.get());
        }
    }
}
