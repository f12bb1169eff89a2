package dev.tether.grpc;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import dev.tether.Context;
import dev.tether.ContextDoneException;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.OutboundBudget;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Deadline;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A client interceptor that makes a gRPC call part of the caller's Tether context: the call's deadline is the
 * context's remaining budget less a per-hop reserve, the service that set that deadline goes along in
 * {@code tether-deadline-origin}, and the call is cancelled the moment the context is done.
 *
 * {@snippet :
 * Channel channel = ClientInterceptors.intercept(managedChannel, TetherClientInterceptor.create("gateway"));
 * try (CancellableContext request = Context.current().withTimeout(Duration.ofSeconds(2))) {
 *     reply = request.call(() -> OrdersGrpc.newBlockingStub(channel).place(order));
 * }
 * }
 *
 * <h2>What a call gets</h2>
 * The context is {@link Context#current()} on the thread that creates the call (where a stub method is called).
 * <ul>
 *   <li><b>Deadline</b>: the earlier of the call's own {@link CallOptions#getDeadline()} and the context's
 *       remaining time less the per-hop reserve of the {@linkplain Builder#budget budget policy}. The reserve
 *       is time the caller keeps for itself: the call fails with {@code DEADLINE_EXCEEDED} while the caller's
 *       context still has that much left, so it can answer its own caller (fall back, or report) instead of
 *       running out together with the call.</li>
 *   <li><b>Fail fast</b>: when the context is already done, or its budget less the reserve is below the
 *       policy's minimum, the call is not started: nothing is sent and the listener is closed at once
 *       with {@code CANCELLED} or {@code DEADLINE_EXCEEDED}, whose cause says why.</li>
 *   <li><b>Origin</b>: when the call has a deadline, {@code tether-deadline-origin} names who set it: the
 *       origin bound to the context with {@link DeadlineOrigin#bindTo} (typically by a server interceptor or
 *       filter that received it), else this service and the method called.</li>
 *   <li><b>Cancellation</b>: when the context ends while the call runs, the call is cancelled through gRPC's own
 *       {@code io.grpc.Context} of the call (the thread-safe path gRPC uses itself), with the context's error as
 *       the cause.</li>
 * </ul>
 *
 * <h2>What the caller sees</h2>
 * The interceptor sets the cause of the status the call ends with, so {@code StatusRuntimeException.getCause()}
 * says what ended it:
 * <ul>
 *   <li>the caller's context ended: its {@link Context#err()}, and the status code follows it
 *       ({@code DEADLINE_EXCEEDED} for a deadline, {@code CANCELLED} otherwise);</li>
 *   <li>else, the server sent {@code tether-ended}: a {@link dev.tether.wire.PeerEndedException} with the
 *       server's kind and reason;</li>
 *   <li>the deadline taken from the context passed: a {@link dev.tether.DeadlineExceededException} naming the
 *       budget, the reserve and the origin.</li>
 * </ul>
 * A {@code tether-ended} value that is malformed or longer than {@link dev.tether.wire.EndedEarly#MAX_HEADER} is
 * not trusted: the cause then says the trailer was unreadable, with the kind taken from the status code.
 */
public final class TetherClientInterceptor implements ClientInterceptor {

    private static final OutboundBudget DEFAULT_POLICY = OutboundBudget.builder()
            .perHopReserve(Duration.ofMillis(5)).minBudget(Duration.ofMillis(1)).build();

    private final SelfOrigins selfOrigins;
    private final OutboundBudget policy;
    private final Deadline.Ticker ticker;

    private TetherClientInterceptor(Builder builder) {
        this.selfOrigins = new SelfOrigins(builder.service);
        this.policy = builder.policy;
        this.ticker = builder.ticker;
    }

    /** An interceptor with the default reserve and minimum, for the service named {@code service}. */
    public static TetherClientInterceptor create(String service) {
        return builder(service).build();
    }

    /**
     * A builder for the service named {@code service}: the origin this client sends when the deadline is its own.
     * Characters an origin may not hold become {@code _} ({@link DeadlineOrigin#sanitized}).
     */
    public static Builder builder(String service) {
        return new Builder(Objects.requireNonNull(service, "service"));
    }

    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
            MethodDescriptor<ReqT, RespT> method, CallOptions callOptions, Channel next) {
        Context ctx = Context.current();
        String name = method.getFullMethodName();
        OutboundBudget.Plan plan = policy.plan(ctx);
        ContextDoneException failure = plan.failure();
        if (failure != null) {
            String why = failure == ctx.err() ? "the caller's context is done: " + failure.getMessage()
                    : failure.getMessage() + originSuffix(DeadlineOrigin.from(ctx));
            return new FailedCall<>(callOptions, Status.fromCode(GrpcKeys.codeOf(failure))
                    .withDescription("not started: " + why).withCause(failure));
        }
        CallOptions options = callOptions;
        @Nullable DeadlineOrigin origin = null;
        long budgetNanos = -1;
        Duration budget = plan.budget();
        if (budget != null) {
            long nanos = Durations.nanos(budget);
            Deadline own = callOptions.getDeadline();
            // Compared by time remaining: a Deadline refuses to compare with one made on another ticker.
            if (own == null || own.timeRemaining(NANOSECONDS) > nanos) {
                options = callOptions.withDeadline(Deadline.after(nanos, NANOSECONDS, ticker));
                budgetNanos = nanos;
                origin = plan.origin();
            }
        }
        if (origin == null && options.getDeadline() != null) {
            // The deadline is this call's own, or one this service set without naming itself.
            origin = selfOrigins.get(name);
        }
        io.grpc.Context.CancellableContext grpcContext = io.grpc.Context.current().withCancellation();
        ClientCall<ReqT, RespT> call;
        // gRPC's call captures io.grpc.Context.current() when it is made and watches it for cancellation.
        io.grpc.Context previous = grpcContext.attach();
        try {
            call = next.newCall(method, options);
        } finally {
            grpcContext.detach(previous);
        }
        return new TetherClientCall<>(call, ctx, grpcContext, origin, next.authority(), name, budgetNanos,
                Durations.nanos(policy.perHopReserve()));
    }

    static String originSuffix(@Nullable DeadlineOrigin origin) {
        return origin == null ? "" : "; deadline set by " + origin.headerValue();
    }

    /** The configuration of a {@link TetherClientInterceptor}. */
    public static final class Builder {
        private final String service;
        private OutboundBudget policy = DEFAULT_POLICY;
        private Deadline.Ticker ticker = Deadline.getSystemTicker();

        private Builder(String service) {
            this.service = DeadlineOrigin.sanitized(service, "").service();
        }

        /**
         * The budget policy shared with Tether's HTTP clients: its per-hop reserve and minimum apply (its header
         * choices do not: gRPC sends the deadline as {@code grpc-timeout} itself). Default: a 5 ms reserve and a
         * 1 ms minimum.
         */
        public Builder budget(OutboundBudget policy) {
            this.policy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /**
         * The ticker call deadlines are made with. Default: the system's, as gRPC's own. It must be the ticker of
         * any {@code io.grpc.Context} deadline in force where calls are made (gRPC refuses to compare deadlines
         * of different tickers), so only tests that run a gRPC server on a ticker following a
         * {@link dev.tether.ManualTimeSource} pass that same ticker here.
         */
        public Builder ticker(Deadline.Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /** The interceptor. */
        public TetherClientInterceptor build() {
            return new TetherClientInterceptor(this);
        }
    }
}
