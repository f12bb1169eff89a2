package dev.tether.grpc;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.EndedEarly;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A server interceptor that runs each gRPC call under a Tether request context: its deadline comes from the
 * call's gRPC deadline, capped by the server's own maximum and less a reserve for the response; it is
 * {@link Context#current()} in every listener callback (and so in the handler); and it ends, with a cause that
 * says why, when the call does.
 *
 * {@snippet :
 * Server server = ServerBuilder.forPort(8443)
 *         .addService(ServerInterceptors.intercept(new OrdersService(),
 *                 TetherServerInterceptor.builder("orders").maxBudget(Duration.ofSeconds(5)).build()))
 *         .build();
 * // in OrdersService: Context.current().deadline(), Blocking.await(Context.current(), future), ...
 * }
 *
 * <h2>The request context</h2>
 * <ul>
 *   <li><b>Budget</b>: the call's remaining gRPC deadline ({@code grpc-timeout}, which gRPC parses) less
 *       {@link Builder#reserve}, never more than {@link Builder#maxBudget}; {@link Builder#defaultBudget} when
 *       the call has no deadline. Below {@link Builder#minBudget} the handler is not started: the call closes
 *       at once with {@code DEADLINE_EXCEEDED} and {@code tether-ended}.</li>
 *   <li><b>Origin</b>: bound with {@link DeadlineOrigin#bindTo}, so a client interceptor passes it on: the
 *       {@code tether-deadline-origin} the client sent when the client's deadline is the one in force, this
 *       server and the method when its own maximum or default is. A value that is malformed or longer than
 *       {@link DeadlineOrigin#MAX_HEADER} is ignored (the deadline then has no known origin).</li>
 *   <li><b>End</b>: the context is cancelled with a {@link CallEndedException} when the gRPC call ends on gRPC's
 *       side (completed, cancelled by the client, gRPC's deadline passed). When it ends first, by its own
 *       deadline or because {@link Builder#parent} ended, the call is closed at once with
 *       {@code DEADLINE_EXCEEDED} or {@code CANCELLED} and a {@code tether-ended} trailer saying why, while the
 *       client still has the reserve to read it; whatever the handler sends after that is dropped.</li>
 * </ul>
 *
 * <h2>The handler's io.grpc.Context</h2>
 * Callbacks run with a child of the call's {@code io.grpc.Context} bound, which is cancelled when the request
 * context ends (with a {@code StatusRuntimeException} cause whose code matches), and ends when the call's does.
 * So gRPC code that checks {@code io.grpc.Context.current().isCancelled()}, adds a cancellation listener, or makes
 * calls through gRPC's own context propagation stops with the request. Its {@code getDeadline()} stays gRPC's (the
 * call's, without the reserve); the Tether context has the earlier one.
 *
 * <h2>Handler failures</h2>
 * A handler that gives up because a context ended (it throws, or fails the call with, a
 * {@link dev.tether.ContextDoneException} or something caused by one) closes the call with that context's status
 * and {@code tether-ended}, not {@code UNKNOWN}. When it fails because a call it made ended early downstream
 * ({@link dev.tether.wire.PeerEndedException}), {@code tether-ended} passes that reason on. Other failures are
 * gRPC's business, as before.
 *
 * <h2>Interrupting handlers</h2>
 * With {@link Builder#interruptHandlers(boolean)} the thread running a callback is interrupted when the request
 * context ends early or the client cancels, so a handler blocked in a plain interruptible call (a
 * {@code Thread.sleep}, a lock, a queue) is freed; the interrupt is cleared before the callback returns, so it
 * never reaches the executor's next task. Off by default: an interrupt also closes any NIO channel the thread is
 * using. Waits through {@link dev.tether.Blocking} end with the context whether or not this is on.
 */
public final class TetherServerInterceptor implements ServerInterceptor {

    private static final System.Logger LOG = System.getLogger(TetherServerInterceptor.class.getName());

    private final String service;
    private final Context parent;
    private final long maxBudgetNanos;
    private final long reserveNanos;
    private final long defaultBudgetNanos;
    private final long minBudgetNanos;
    private final boolean interruptHandlers;

    private TetherServerInterceptor(Builder b) {
        this.service = b.service;
        this.parent = b.parent;
        this.maxBudgetNanos = b.maxBudgetNanos;
        this.reserveNanos = b.reserveNanos;
        this.defaultBudgetNanos = Math.min(b.defaultBudgetNanos < 0 ? b.maxBudgetNanos : b.defaultBudgetNanos,
                b.maxBudgetNanos);
        this.minBudgetNanos = b.minBudgetNanos;
        this.interruptHandlers = b.interruptHandlers;
    }

    /** An interceptor with the default limits, for the service named {@code service}. */
    public static TetherServerInterceptor create(String service) {
        return builder(service).build();
    }

    /**
     * A builder for the service named {@code service}: the origin of deadlines this server sets itself.
     * Characters an origin may not hold become {@code _} ({@link DeadlineOrigin#sanitized}).
     */
    public static Builder builder(String service) {
        return new Builder(Objects.requireNonNull(service, "service"));
    }

    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
            ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
        io.grpc.Context callContext = io.grpc.Context.current();
        String method = call.getMethodDescriptor().getFullMethodName();
        Deadline deadline = callContext.getDeadline();
        long budget;
        @Nullable DeadlineOrigin origin;
        if (deadline != null) {
            long fromClient = Durations.minus(deadline.timeRemaining(NANOSECONDS), reserveNanos);
            if (fromClient <= maxBudgetNanos) {
                budget = fromClient;
                origin = inboundOrigin(headers, method);
            } else {
                budget = maxBudgetNanos;
                origin = DeadlineOrigin.sanitized(service, method);
            }
        } else {
            budget = defaultBudgetNanos;
            origin = DeadlineOrigin.sanitized(service, method);
        }
        if (budget < minBudgetNanos) {
            String why = "budget " + Durations.format(budget) + " is below the server's minimum "
                    + Durations.format(minBudgetNanos) + TetherClientInterceptor.originSuffix(origin);
            Metadata trailers = new Metadata();
            trailers.put(GrpcKeys.ENDED, new EndedEarly(EndedEarly.Kind.DEADLINE_EXCEEDED, why).headerValue());
            call.close(Status.DEADLINE_EXCEEDED.withDescription("not started: " + why), trailers);
            return new ServerCall.Listener<>() {
            };
        }
        CancellableContext request = parent.withTimeout(Duration.ofNanos(budget));
        Context bound = origin != null ? origin.bindTo(request) : request;
        ServerCallBridge<ReqT, RespT> bridge = new ServerCallBridge<>(call, request, bound,
                callContext.withCancellation(), interruptHandlers ? new HandlerInterrupter() : null,
                budget, origin);
        return bridge.start(callContext, next, headers);
    }

    private static @Nullable DeadlineOrigin inboundOrigin(Metadata headers, String method) {
        String value = headers.get(GrpcKeys.ORIGIN);
        if (value == null) {
            return null;
        }
        try {
            return DeadlineOrigin.parse(value);
        } catch (IllegalArgumentException e) {
            // Degrade and report: the call goes on, the deadline just has no known origin. The parser's message
            // is bounded; the value is not repeated.
            LOG.log(System.Logger.Level.DEBUG, () -> method + ": ignored " + GrpcKeys.ORIGIN.name() + ": "
                    + e.getMessage());
            return null;
        }
    }

    /** The configuration of a {@link TetherServerInterceptor}. */
    public static final class Builder {
        private final String service;
        private Context parent = Context.background();
        private long maxBudgetNanos = Duration.ofSeconds(30).toNanos();
        private long reserveNanos = Duration.ofMillis(5).toNanos();
        private long defaultBudgetNanos = -1;
        private long minBudgetNanos = Duration.ofMillis(1).toNanos();
        private boolean interruptHandlers;

        private Builder(String service) {
            this.service = DeadlineOrigin.sanitized(service, "").service();
        }

        /**
         * The longest budget any call gets, whatever its client sent: the server's own limit. Default 30 s.
         *
         * @throws IllegalArgumentException if zero or negative
         */
        public Builder maxBudget(Duration maxBudget) {
            this.maxBudgetNanos = Durations.positive(maxBudget, "maxBudget");
            return this;
        }

        /**
         * Time kept back from the client's deadline for the response to travel back: the request context ends
         * this much before gRPC's deadline for the call, so the client can read why. Default 5 ms.
         *
         * @throws IllegalArgumentException if negative
         */
        public Builder reserve(Duration reserve) {
            this.reserveNanos = Durations.nonNegative(reserve, "reserve");
            return this;
        }

        /**
         * The budget of a call that comes without a deadline. Default: {@link #maxBudget}, which also caps it.
         *
         * @throws IllegalArgumentException if zero or negative
         */
        public Builder defaultBudget(Duration defaultBudget) {
            this.defaultBudgetNanos = Durations.positive(defaultBudget, "defaultBudget");
            return this;
        }

        /**
         * The smallest budget worth starting a handler for; below it the call fails at once. Default 1 ms.
         *
         * @throws IllegalArgumentException if negative
         */
        public Builder minBudget(Duration minBudget) {
            this.minBudgetNanos = Durations.nonNegative(minBudget, "minBudget");
            return this;
        }

        /**
         * The context every request context is derived from: a server-wide one that ends on shutdown (its calls
         * then close with {@code CANCELLED}), or in tests a {@link Context#root} on a
         * {@link dev.tether.ManualTimeSource}. Default {@link Context#background()}.
         */
        public Builder parent(Context parent) {
            this.parent = Objects.requireNonNull(parent, "parent");
            return this;
        }

        /** Whether to interrupt a callback's thread when its request ends early; see the class documentation. */
        public Builder interruptHandlers(boolean interruptHandlers) {
            this.interruptHandlers = interruptHandlers;
            return this;
        }

        /** The interceptor. */
        public TetherServerInterceptor build() {
            return new TetherServerInterceptor(this);
        }
    }
}
