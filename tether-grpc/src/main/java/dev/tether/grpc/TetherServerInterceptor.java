package dev.tether.grpc;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.EndedEarly;
import dev.tether.wire.GrpcTimeout;
import dev.tether.wire.InboundBudget;
import dev.tether.wire.WireHeaders;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.Objects;

/**
 * A server interceptor that runs each gRPC call under a Tether request context: its deadline comes from the
 * call's gRPC deadline, capped by the server's own maximum and less a reserve for the response; it is
 * {@link Context#current()} in every listener callback (and so in the handler); and it ends, with a cause that
 * says why, when the call does.
 *
 * {@snippet :
 * Server server = ServerBuilder.forPort(8443)
 *         .addService(ServerInterceptors.intercept(new OrdersService(),
 *                 TetherServerInterceptor.builder("orders")
 *                         .budget(InboundBudget.builder().maxBudget(Duration.ofSeconds(5)).build())
 *                         .build()))
 *         .build();
 * // in OrdersService: Context.current().deadline(), Blocking.await(Context.current(), future), ...
 * }
 *
 * <h2>The request context</h2>
 * <ul>
 *   <li><b>Budget</b>: read by the {@linkplain Builder#budget budget policy} shared with Tether's HTTP servers
 *       ({@link InboundBudget}): the call's remaining gRPC deadline ({@code grpc-timeout}, which gRPC parses)
 *       or a smaller {@code tether-budget}, capped by the server's maximum, less the reserve; the policy's
 *       default when the call has no deadline. Below the policy's minimum the handler is not started: the call
 *       closes at once with {@code DEADLINE_EXCEEDED} and {@code tether-ended}.</li>
 *   <li><b>Origin</b>: bound with {@link DeadlineOrigin#bindTo}, so a client interceptor passes it on: the
 *       {@code tether-deadline-origin} the client sent when the client's deadline is the one in force, this
 *       server and the method when its own maximum or default is. A value that is malformed or longer than
 *       {@link DeadlineOrigin#MAX_HEADER} is ignored, and so is a missing one: the origin is then
 *       {@code peer/grpc-timeout}, a peer that did not say.</li>
 *   <li><b>End</b>: when the gRPC call ends on gRPC's side, the context is cancelled with the causes Tether's
 *       HTTP servers use: {@link dev.tether.wire.RequestEndedException#responseCompleted()} when it completed,
 *       {@link dev.tether.wire.RequestEndedException#clientDisconnected} when the client cancelled it or its
 *       connection went away, a {@link dev.tether.DeadlineExceededException} when gRPC's own deadline passed
 *       first (only with no reserve, or clocks apart). When it ends first, by its own
 *       deadline or because {@link Builder#parent} ended, the call is closed at once with
 *       {@code DEADLINE_EXCEEDED} or {@code CANCELLED} and a {@code tether-ended} trailer saying why, while the
 *       client still has the reserve to read it; whatever the handler sends after that is dropped.</li>
 * </ul>
 *
 * <p>gRPC tells a server that its client cancelled by cancelling the call's {@code io.grpc.Context} on the
 * server's executor (never on a transport thread), so the request context hears of it as soon as that executor
 * has a free thread: size it so that handlers blocked in calls cannot take every thread.
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

    private static final InboundBudget DEFAULT_POLICY = InboundBudget.builder()
            .reserve(Duration.ofMillis(5)).minBudget(Duration.ofMillis(1)).build();

    private final SelfOrigins selfOrigins;
    private final InboundBudget policy;
    private final Context parent;
    private final boolean interruptHandlers;

    private TetherServerInterceptor(Builder b) {
        this.selfOrigins = new SelfOrigins(b.service);
        this.policy = b.policy;
        this.parent = b.parent;
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
        // gRPC has parsed grpc-timeout into the call's deadline, which is what it enforces: that is the offer.
        String grpcTimeout = deadline == null ? null
                : GrpcTimeout.format(Duration.ofNanos(deadline.timeRemaining(NANOSECONDS)));
        InboundBudget.Result read = policy.read(name -> name.equals(WireHeaders.GRPC_TIMEOUT) ? grpcTimeout
                : headers.get(GrpcKeys.ascii(name)));
        if (!read.notes().isEmpty()) {
            LOG.log(System.Logger.Level.DEBUG, () -> method + ": " + String.join("; ", read.notes()));
        }
        DeadlineOrigin origin = read.origin(selfOrigins.get(method));
        long budget = Durations.nanos(read.budget());
        if (read.belowMinimum()) {
            String why = "budget " + Durations.format(budget) + " is below the server's minimum "
                    + Durations.format(Durations.nanos(policy.minBudget())) + " (" + read + ")";
            Metadata trailers = new Metadata();
            trailers.put(GrpcKeys.ENDED, new EndedEarly(EndedEarly.Kind.DEADLINE_EXCEEDED, why).headerValue());
            call.close(Status.DEADLINE_EXCEEDED.withDescription("not started: " + why), trailers);
            return new ServerCall.Listener<>() {
            };
        }
        CancellableContext request = parent.withTimeout(read.budget());
        ServerCallBridge<ReqT, RespT> bridge = new ServerCallBridge<>(call, request, origin.bindTo(request),
                callContext.withCancellation(), interruptHandlers ? new HandlerInterrupter() : null,
                budget, origin);
        return bridge.start(callContext, next, headers);
    }

    /** The configuration of a {@link TetherServerInterceptor}. */
    public static final class Builder {
        private final String service;
        private InboundBudget policy = DEFAULT_POLICY;
        private Context parent = Context.background();
        private boolean interruptHandlers;

        private Builder(String service) {
            this.service = DeadlineOrigin.sanitized(service, "").service();
        }

        /**
         * The budget policy shared with Tether's HTTP servers: the server's maximum, the default for calls without
         * a deadline, the reserve for the response and the minimum worth starting a handler for. Default: 30 s
         * maximum and default, a 5 ms reserve, a 1 ms minimum.
         */
        public Builder budget(InboundBudget policy) {
            this.policy = Objects.requireNonNull(policy, "policy");
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
