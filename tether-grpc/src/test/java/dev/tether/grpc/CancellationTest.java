package dev.tether.grpc;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.util.concurrent.ListenableFuture;
import dev.tether.Blocking;
import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ContextCancelledException;
import dev.tether.ContextDoneException;
import dev.tether.DeadlineExceededException;
import dev.tether.ManualTimeSource;
import dev.tether.grpc.Harness.Transport;
import dev.tether.wire.EndedEarly;
import dev.tether.wire.InboundBudget;
import dev.tether.wire.PeerEndedException;
import dev.tether.wire.RequestEndedException;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.Contexts;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Cancellation both ways: the caller's context ending cancels the call and reaches the handler; the server's
 * request context ending closes the call with a reason the caller reads; gRPC's io.grpc.Context follows both.
 */
@Timeout(30)
class CancellationTest {

    private final ManualTimeSource time = ManualTimeSource.create();
    private final CountDownLatch entered = new CountDownLatch(1);
    private final CountDownLatch handlerEnded = new CountDownLatch(1);
    private final AtomicReference<Throwable> serverCause = new AtomicReference<>();
    private final AtomicReference<io.grpc.Context> handlerGrpcContext = new AtomicReference<>();
    private final AtomicReference<Context> handlerContext = new AtomicReference<>();

    @AfterEach
    void currentContextIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
    }

    /** A handler that waits on its request context until it ends, records what it saw, and gives up. */
    private ServerCalls.UnaryMethod<String, String> waitsForItsContext() {
        return (request, reply) -> {
            handlerContext.set(Context.current());
            handlerGrpcContext.set(io.grpc.Context.current());
            entered.countDown();
            try {
                Blocking.await(Context.current(), new CompletableFuture<Void>());
            } catch (ExecutionException e) {
                throw new AssertionError(e);
            } catch (ContextDoneException e) {
                serverCause.set(Context.current().cause());
                handlerEnded.countDown();
                throw e;
            }
        };
    }

    private static TetherServerInterceptor server(Context parent, InboundBudget policy) {
        return TetherServerInterceptor.builder("orders").budget(policy).parent(parent).build();
    }

    private static ListenableFuture<String> callAsync(Context ctx, Channel channel) throws Exception {
        return ctx.call(() -> ClientCalls.futureUnaryCall(channel.newCall(Echo.UNARY, CallOptions.DEFAULT), "x"));
    }

    private static StatusRuntimeException failure(ListenableFuture<String> reply) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> reply.get(10, SECONDS));
        return assertInstanceOf(StatusRuntimeException.class, e.getCause());
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void clientCancelReachesTheBlockedHandlerWithItsCause(Transport transport) throws Exception {
        try (Harness h = Harness.builder(transport, Echo.service(waitsForItsContext()))
                .intercept(TetherServerInterceptor.create("orders")).start();
                CancellableContext request = Context.background().withCancel()) {
            ListenableFuture<String> reply = callAsync(request, h.channel(TetherClientInterceptor.create("gw")));
            assertTrue(entered.await(10, SECONDS));

            long start = System.nanoTime();
            request.cancel(new IllegalStateException("user closed the tab"));

            assertTrue(handlerEnded.await(5, SECONDS), "the handler heard of the cancel within 5 s");
            long tookMillis = (System.nanoTime() - start) / 1_000_000;
            StatusRuntimeException e = failure(reply);
            assertEquals(Status.Code.CANCELLED, e.getStatus().getCode());
            assertSame(request.err(), e.getCause(), "the caller's own error, with its cause");
            assertEquals("user closed the tab", e.getCause().getCause().getMessage());
            RequestEndedException ended = assertInstanceOf(RequestEndedException.class, serverCause.get());
            assertEquals(RequestEndedException.Why.CLIENT_DISCONNECTED, ended.why());
            assertTrue(ended.getMessage().contains("test.Echo/Unary"), ended.getMessage());
            assertTrue(handlerGrpcContext.get().isCancelled(), "gRPC's context of the handler is cancelled too");
            assertTrue(tookMillis < 5000, tookMillis + " ms");
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void clientCancelInterruptsAHandlerInAPlainWaitAndTheInterruptDoesNotLeak(Transport transport)
            throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        AtomicInteger tasks = new AtomicInteger();
        AtomicInteger tasksEndingInterrupted = new AtomicInteger();
        // Every task gRPC runs on the server's executor is checked as it returns: an interrupt still set then
        // would reach whatever the pooled thread runs next.
        Executor checked = task -> pool.execute(() -> {
            task.run();
            tasks.incrementAndGet();
            if (Thread.interrupted()) {
                tasksEndingInterrupted.incrementAndGet();
            }
        });
        AtomicBoolean interrupted = new AtomicBoolean();
        AtomicBoolean contextDoneWhenInterrupted = new AtomicBoolean();
        ServerCalls.UnaryMethod<String, String> handler = (request, reply) -> {
            entered.countDown();
            try {
                new CountDownLatch(1).await();   // knows nothing of contexts
            } catch (InterruptedException e) {
                interrupted.set(true);
                contextDoneWhenInterrupted.set(Context.current().isDone());
                handlerEnded.countDown();
                Thread.currentThread().interrupt();   // as well-behaved code does; must not leak past the callback
            }
        };
        try (Harness h = Harness.builder(transport, Echo.service(handler)).executor(checked)
                .intercept(TetherServerInterceptor.builder("orders").interruptHandlers(true).build()).start();
                CancellableContext request = Context.background().withCancel()) {
            ListenableFuture<String> reply = callAsync(request, h.channel(TetherClientInterceptor.create("gw")));
            assertTrue(entered.await(10, SECONDS));

            request.cancel();

            assertTrue(handlerEnded.await(5, SECONDS), "the handler was interrupted within 5 s");
            assertTrue(interrupted.get());
            assertTrue(contextDoneWhenInterrupted.get());
            assertEquals(Status.Code.CANCELLED, failure(reply).getStatus().getCode());
        } finally {
            pool.shutdown();
            assertTrue(pool.awaitTermination(10, SECONDS));
        }
        assertTrue(tasks.get() >= 2, tasks + " tasks");
        assertEquals(0, tasksEndingInterrupted.get());
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void serverDeadlineSurfacesAtTheClientWithItsCause(Transport transport) throws Exception {
        InboundBudget policy = InboundBudget.builder().maxBudget(Duration.ofSeconds(1)).build();
        try (Harness h = Harness.builder(transport, Echo.service(waitsForItsContext()))
                .intercept(server(Context.root(time), policy)).start()) {
            ListenableFuture<String> reply = callAsync(Context.background(),
                    h.channel(TetherClientInterceptor.create("gw")));
            assertTrue(entered.await(10, SECONDS));

            time.advance(Duration.ofSeconds(1));

            StatusRuntimeException e = failure(reply);
            assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
            PeerEndedException peer = assertInstanceOf(PeerEndedException.class, e.getCause());
            assertEquals(EndedEarly.Kind.DEADLINE_EXCEEDED, peer.ended().kind());
            assertTrue(peer.ended().reason().contains("budget 1000ms; deadline set by orders/test.Echo/Unary"),
                    peer.ended().reason());
            assertEquals(null, peer.getCause(), "the caller's own context is still live");
            assertTrue(handlerEnded.await(5, SECONDS));
            assertInstanceOf(DeadlineExceededException.class, handlerContext.get().err());
            Status seenByGrpcCode = Contexts.statusFromCancelled(handlerGrpcContext.get());
            assertNotNull(seenByGrpcCode, "gRPC's context of the handler is cancelled");
            assertEquals(Status.Code.DEADLINE_EXCEEDED, seenByGrpcCode.getCode());
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void callerDeadlineCancelsTheCallWithTheCallersError(Transport transport) throws Exception {
        try (Harness h = Harness.builder(transport, Echo.service(waitsForItsContext()))
                .intercept(TetherServerInterceptor.create("orders")).start();
                CancellableContext request = Context.root(time).withTimeout(Duration.ofSeconds(20))) {
            // gRPC times the call's deadline on the system clock: 20 s is far off; the manual clock ends it now.
            ListenableFuture<String> reply = callAsync(request, h.channel(TetherClientInterceptor.create("gw")));
            assertTrue(entered.await(10, SECONDS));

            time.advance(Duration.ofSeconds(20));

            StatusRuntimeException e = failure(reply);
            assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
            assertSame(request.err(), e.getCause());
            assertInstanceOf(DeadlineExceededException.class, e.getCause());
            assertTrue(handlerEnded.await(5, SECONDS));
            assertEquals(RequestEndedException.Why.CLIENT_DISCONNECTED,
                    assertInstanceOf(RequestEndedException.class, serverCause.get()).why());
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void serverShutdownEndsCallsWithItsReason(Transport transport) throws Exception {
        try (CancellableContext serverLife = Context.background().withCancel();
                Harness h = Harness.builder(transport, Echo.service(waitsForItsContext()))
                        .intercept(server(serverLife, InboundBudget.builder().build())).start()) {
            ListenableFuture<String> reply = callAsync(Context.background(),
                    h.channel(TetherClientInterceptor.create("gw")));
            assertTrue(entered.await(10, SECONDS));

            serverLife.cancel(new IllegalStateException("server shutting down"));

            StatusRuntimeException e = failure(reply);
            assertEquals(Status.Code.CANCELLED, e.getStatus().getCode());
            PeerEndedException peer = assertInstanceOf(PeerEndedException.class, e.getCause());
            assertEquals(EndedEarly.Kind.CANCELLED, peer.ended().kind());
            assertEquals("server shutting down", peer.ended().reason());
            assertTrue(handlerEnded.await(5, SECONDS));
            assertEquals(Status.Code.CANCELLED,
                    Contexts.statusFromCancelled(handlerGrpcContext.get()).getCode());
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void completedCallEndsBothContextsOfTheHandler(Transport transport) throws Exception {
        CountDownLatch tetherEnded = new CountDownLatch(1);
        CountDownLatch grpcEnded = new CountDownLatch(1);
        AtomicBoolean liveWhileHandling = new AtomicBoolean();
        ServerCalls.UnaryMethod<String, String> handler = (request, reply) -> {
            Context ctx = Context.current();
            io.grpc.Context grpc = io.grpc.Context.current();
            liveWhileHandling.set(!ctx.isDone() && !grpc.isCancelled());
            handlerContext.set(ctx);
            ctx.onDone(tetherEnded::countDown);
            grpc.addListener(c -> grpcEnded.countDown(), Runnable::run);
            reply.onNext("ok");
            reply.onCompleted();
        };
        try (Harness h = Harness.builder(transport, Echo.service(handler))
                .intercept(TetherServerInterceptor.create("orders")).start()) {

            String reply = ClientCalls.blockingUnaryCall(h.channel(TetherClientInterceptor.create("gw")),
                    Echo.UNARY, CallOptions.DEFAULT, "x");

            assertEquals("ok", reply);
            assertTrue(liveWhileHandling.get());
            assertTrue(tetherEnded.await(5, SECONDS), "the request context ends when the call completes");
            assertTrue(grpcEnded.await(5, SECONDS), "and so does the handler's io.grpc.Context");
            assertInstanceOf(ContextCancelledException.class, handlerContext.get().err());
            assertSame(RequestEndedException.responseCompleted(), handlerContext.get().cause());
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void handlerGivingUpOnItsOwnTimeoutAnswersDeadlineExceeded(Transport transport) throws Exception {
        ServerCalls.UnaryMethod<String, String> handler = (request, reply) -> {
            try (CancellableContext local = Context.current().withTimeout(Duration.ZERO)) {
                if (request.equals("throw")) {
                    local.throwIfDone();
                } else {
                    reply.onError(local.err());
                }
            }
        };
        try (Harness h = Harness.builder(transport, Echo.service(handler))
                .intercept(TetherServerInterceptor.create("orders")).start()) {
            Channel channel = h.channel(TetherClientInterceptor.create("gw"));
            for (String how : new String[] {"throw", "onError"}) {

                StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                        () -> ClientCalls.blockingUnaryCall(channel, Echo.UNARY, CallOptions.DEFAULT, how));

                assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode(), how);
                PeerEndedException peer = assertInstanceOf(PeerEndedException.class, e.getCause(), how);
                assertEquals(new EndedEarly(EndedEarly.Kind.DEADLINE_EXCEEDED, "context deadline exceeded"),
                        peer.ended(), how);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void handlerIoGrpcContextFollowsTheRequestContext(Transport transport) throws Exception {
        AtomicReference<String> seen = new AtomicReference<>();
        ServerCalls.UnaryMethod<String, String> handler = (request, reply) -> {
            // Code written for gRPC alone: watches io.grpc.Context, knows nothing of Tether.
            io.grpc.Context grpc = io.grpc.Context.current();
            CountDownLatch cancelled = new CountDownLatch(1);
            grpc.addListener(c -> cancelled.countDown(), Runnable::run);
            entered.countDown();
            try {
                if (cancelled.await(10, SECONDS)) {
                    seen.set(Contexts.statusFromCancelled(grpc).getCode() + " " + grpc.cancellationCause());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            handlerEnded.countDown();
        };
        InboundBudget policy = InboundBudget.builder().maxBudget(Duration.ofSeconds(3)).build();
        try (Harness h = Harness.builder(transport, Echo.service(handler))
                .intercept(server(Context.root(time), policy)).start()) {
            ListenableFuture<String> reply = callAsync(Context.background(),
                    h.channel(TetherClientInterceptor.create("gw")));
            assertTrue(entered.await(10, SECONDS));

            time.advance(Duration.ofSeconds(3));

            assertTrue(handlerEnded.await(10, SECONDS));
            assertTrue(seen.get().startsWith("DEADLINE_EXCEEDED io.grpc.StatusRuntimeException"), seen.get());
            assertEquals(Status.Code.DEADLINE_EXCEEDED, failure(reply).getStatus().getCode());
        }
    }
}
