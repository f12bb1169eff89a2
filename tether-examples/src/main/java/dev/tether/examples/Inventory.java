package dev.tether.examples;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import dev.tether.Blocking;
import dev.tether.Context;
import dev.tether.ContextDoneException;
import dev.tether.ContextExecutors;
import dev.tether.DeadlineExceededException;
import dev.tether.grpc.TetherServerInterceptor;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.InboundBudget;
import io.grpc.MethodDescriptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * The chain demo's last hop: a gRPC service on Netty (a loopback port) behind tether-grpc's
 * {@link TetherServerInterceptor}, so each call runs under a request context whose deadline is the caller's
 * {@code grpc-timeout} less this server's reserve, and which ends when the call does. A call reserves stock in
 * the {@link StockDatabase} on a backend task started through Tether ({@link ContextExecutors#startVirtualThread}):
 * the task runs under the call's context, so its statement is cancelled with the call, and the leak detector
 * attributes it to the call. The handler waits for it with {@link Blocking#await}, which returns the moment the
 * call's context ends.
 *
 * <p>In leaky mode the backend task retries a failed reservation until it succeeds, never asking its context
 * whether anyone still wants it: the leak the demo's leak check then reports. (Its retries never reach the
 * database: tether-jdbc refuses statements under a context that has ended.)
 */
final class Inventory implements AutoCloseable {

    static final String SERVICE = "inventory";
    static final Duration RETRY_PAUSE = Duration.ofMillis(50);

    private static final MethodDescriptor.Marshaller<String> UTF8 = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readNBytes(256), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    /** {@code inventory.Inventory/Reserve}: {@code "<sku> <delay seconds>"} in, a line of text out. */
    static final MethodDescriptor<String, String> RESERVE = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName("inventory.Inventory/Reserve")
            .setRequestMarshaller(UTF8)
            .setResponseMarshaller(UTF8)
            .build();

    private final StockDatabase db;
    private final Tracer tracer;
    private final boolean leaky;
    private final io.grpc.Server server;
    private final BlockingQueue<HopRecord> calls = new LinkedBlockingQueue<>();
    private final BlockingQueue<Long> statementsSent = new LinkedBlockingQueue<>();
    private final AtomicInteger backendTasks = new AtomicInteger();
    // Set at shutdown: the only thing a leaky backend task looks at.
    private final AtomicBoolean stopping = new AtomicBoolean();

    private Inventory(Context parent, InboundBudget policy, StockDatabase db, Tracer tracer, boolean leaky)
            throws IOException {
        this.db = db;
        this.tracer = tracer;
        this.leaky = leaky;
        ServerServiceDefinition service = ServerServiceDefinition.builder("inventory.Inventory")
                .addMethod(RESERVE, ServerCalls.asyncUnaryCall(this::reserve))
                .build();
        this.server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .addService(ServerInterceptors.intercept(service,
                        TetherServerInterceptor.builder(SERVICE).parent(parent).budget(policy).build()))
                .build()
                .start();
    }

    /** Starts the service on a free loopback port; {@code parent} is the server's context, ended at shutdown. */
    static Inventory start(Context parent, InboundBudget policy, StockDatabase db, Tracer tracer, boolean leaky)
            throws IOException {
        return new Inventory(parent, policy, db, tracer, leaky);
    }

    int port() {
        return server.getPort();
    }

    /** How many backend tasks were started through Tether so far. */
    int backendTasks() {
        return backendTasks.get();
    }

    /** The next call to end, waiting at most {@code bound}; null if none ended in time. */
    @Nullable HopRecord nextCall(Duration bound) throws InterruptedException {
        return calls.poll(bound.toNanos(), NANOSECONDS);
    }

    /** Waits at most {@code bound} for the next statement to be sent to the database; false if none was. */
    boolean awaitStatementSent(Duration bound) throws InterruptedException {
        return statementsSent.poll(bound.toNanos(), NANOSECONDS) != null;
    }

    /** Forgets calls and statements seen so far. */
    void forget() {
        calls.clear();
        statementsSent.clear();
    }

    // ---- a call ----

    private void reserve(String request, StreamObserver<String> reply) {
        Context ctx = Context.current();   // the call's request context, bound by TetherServerInterceptor
        long entered = System.nanoTime();
        Duration budget = ctx.remaining().orElse(Duration.ZERO);
        io.grpc.Deadline grpcDeadline = io.grpc.Context.current().getDeadline();
        String received = grpcDeadline == null ? "server default"
                : "offered " + grpcDeadline.timeRemaining(TimeUnit.MILLISECONDS) + "ms via grpc-timeout";
        DeadlineOrigin origin = DeadlineOrigin.from(ctx);
        AtomicLong ended = new AtomicLong(HopRecord.NOT_ENDED);
        ctx.onDone(() -> ended.set(System.nanoTime()), Runnable::run);
        // A server span, started with the request context current, so TetherSpanProcessor binds the two.
        Span span = tracer.spanBuilder("inventory.Inventory/Reserve").setSpanKind(SpanKind.SERVER)
                .setAttribute("rpc.system", "grpc").setAttribute("rpc.service", "inventory.Inventory")
                .setAttribute("rpc.method", "Reserve").startSpan();
        CompletableFuture<QueryOutcome> work = new CompletableFuture<>();
        boolean started = false;
        String outcome = "failed";
        Scope scope = span.makeCurrent();
        try {
            Order order;
            try {
                order = Order.fromWire(request);
            } catch (IllegalArgumentException e) {
                outcome = "refused: " + e.getMessage();
                reply.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
                return;
            }
            backendTasks.incrementAndGet();
            started = true;
            // The backend task runs under this call's context: cancelled with it, attributed to it.
            ContextExecutors.startVirtualThread(() -> backend(order, work));
            QueryOutcome done = Blocking.await(ctx, work);   // throws the context's error the moment it ends
            if (done.completed()) {
                outcome = "completed: " + done.detail();
                reply.onNext(order.sku() + ": " + done.detail());
                reply.onCompleted();
            } else {
                ctx.throwIfDone();
                outcome = "failed: " + done.detail();
                reply.onError(Status.UNAVAILABLE.withDescription("database: " + done.detail()).asRuntimeException());
            }
        } catch (ContextDoneException e) {
            // TetherServerInterceptor has closed the call already, with the status and reason that go with e.
            outcome = "ended early: " + HopRecord.describe(ctx.cause(), e instanceof DeadlineExceededException);
            throw e;
        } catch (ExecutionException e) {
            outcome = "failed: " + e.getCause();
            reply.onError(Status.INTERNAL.withDescription(String.valueOf(e.getCause())).asRuntimeException());
        } finally {
            scope.close();
            span.end();
            calls.add(new HopRecord(SERVICE, budget, received, origin == null ? "-" : origin.toString(),
                    Duration.ofNanos(System.nanoTime() - entered), outcome, outcome.startsWith("ended early"),
                    ended::get, started ? work : null));
        }
    }

    /** The backend task: one reservation, under the call's context. */
    private void backend(Order order, CompletableFuture<QueryOutcome> work) {
        if (!leaky) {
            work.complete(db.reserve(order, statementsSent::add));
            return;
        }
        // The leak: retries until the reservation goes through, and never asks its context whether anyone still
        // wants it. Its first attempt is the call's answer; after that nobody is listening. No Context is in sight
        // here, so tether-lint has nothing to flag: the leak detector finds it at run time.
        while (!stopping.get()) {
            QueryOutcome attempt = db.reserve(order, statementsSent::add);
            work.complete(attempt);
            if (attempt.completed()) {
                return;
            }
            LockSupport.parkNanos(RETRY_PAUSE.toNanos());
        }
    }

    /** Stops the server now, and lets any leaky backend task end. */
    @Override
    public void close() {
        stopping.set(true);
        server.shutdownNow();
        try {
            server.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
