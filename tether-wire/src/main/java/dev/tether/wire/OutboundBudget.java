package dev.tether.wire;

import dev.tether.Context;
import dev.tether.ContextDoneException;
import dev.tether.DeadlineExceededException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A client's policy for what a call carries to the next service: the caller's remaining budget less a per-hop
 * reserve (time for the response to travel back and be handled), and the deadline's origin; or that the call must
 * not be made at all. Immutable and thread-safe.
 *
 * {@snippet :
 * OutboundBudget policy = OutboundBudget.builder()
 *         .perHopReserve(Duration.ofMillis(10))
 *         .minBudget(Duration.ofMillis(5))
 *         .build();
 * OutboundBudget.Plan plan = policy.plan(Context.current());
 * if (plan.failure() != null) throw plan.failure();       // not worth sending
 * plan.headers().forEach(request::header);                // tether-budget, grpc-timeout, tether-deadline-origin
 * }
 *
 * <p>A context without a deadline sends no budget: the next service applies its own default and maximum. The
 * origin is {@link DeadlineOrigin#from(Context)}, else the configured {@linkplain Builder#localOrigin local
 * origin} when the context has a deadline nobody named.
 */
public final class OutboundBudget {

    private final Duration perHopReserve;
    private final Duration minBudget;
    private final boolean grpcTimeout;
    private final @Nullable DeadlineOrigin localOrigin;

    private OutboundBudget(Builder b) {
        this.perHopReserve = b.perHopReserve;
        this.minBudget = b.minBudget;
        this.grpcTimeout = b.grpcTimeout;
        this.localOrigin = b.localOrigin;
    }

    /** A builder with no reserve, no minimum, {@code grpc-timeout} sent, and no local origin. */
    public static Builder builder() {
        return new Builder();
    }

    /** Subtracted from the caller's remaining budget at every call. */
    public Duration perHopReserve() {
        return perHopReserve;
    }

    /** Calls whose budget would be below this fail without being sent. */
    public Duration minBudget() {
        return minBudget;
    }

    /**
     * What to send for a call made under {@code ctx}, read now from ctx's time source.
     *
     * @throws NullPointerException if ctx is null
     */
    public Plan plan(Context ctx) {
        Objects.requireNonNull(ctx, "ctx");
        ContextDoneException err = ctx.err();
        if (err != null) {
            return new Plan(null, null, Map.of(), err);
        }
        Optional<Duration> remaining = ctx.remaining();
        if (remaining.isEmpty()) {
            return new Plan(null, null, Map.of(), null);
        }
        Duration left = remaining.get();
        Duration budget = left.minus(perHopReserve);
        if (budget.isNegative() || budget.isZero() || budget.compareTo(minBudget) < 0) {
            return new Plan(null, null, Map.of(), new DeadlineExceededException(
                    "not sent: " + millis(left) + " left, less the per-hop reserve of " + millis(perHopReserve)
                            + ", is below the minimum of " + millis(minBudget), null));
        }
        DeadlineOrigin origin = DeadlineOrigin.from(ctx);
        if (origin == null) {
            origin = localOrigin;
        }
        String value = GrpcTimeout.format(budget);
        Map<String, String> headers = new LinkedHashMap<>(4);
        headers.put(WireHeaders.BUDGET, value);
        if (grpcTimeout) {
            headers.put(WireHeaders.GRPC_TIMEOUT, value);
        }
        if (origin != null) {
            headers.put(WireHeaders.ORIGIN, origin.headerValue());
        }
        return new Plan(budget, origin, Map.copyOf(headers), null);
    }

    private static String millis(Duration d) {
        long nanos = d.toNanos();
        return nanos % 1_000_000L == 0 ? nanos / 1_000_000L + "ms" : String.format("%.3fms", nanos / 1e6);
    }

    @Override
    public String toString() {
        return "OutboundBudget[perHopReserve=" + perHopReserve + ", min=" + minBudget + ", grpcTimeout=" + grpcTimeout
                + ", localOrigin=" + localOrigin + "]";
    }

    /** What {@link #plan} decided for one call. Immutable. */
    public static final class Plan {
        private final @Nullable Duration budget;
        private final @Nullable DeadlineOrigin origin;
        private final Map<String, String> headers;
        private final @Nullable ContextDoneException failure;

        Plan(@Nullable Duration budget, @Nullable DeadlineOrigin origin, Map<String, String> headers,
                @Nullable ContextDoneException failure) {
            this.budget = budget;
            this.origin = origin;
            this.headers = headers;
            this.failure = failure;
        }

        /** The budget sent; null when nothing is sent (no deadline, or a failure). */
        public @Nullable Duration budget() {
            return budget;
        }

        /** The origin sent, if any. */
        public @Nullable DeadlineOrigin origin() {
            return origin;
        }

        /** Lower-case header names to their values, to add to the request; empty when there is no budget. */
        public Map<String, String> headers() {
            return headers;
        }

        /**
         * Why the call must fail without being sent, else null: the context's own {@code err()} when it is done,
         * or a {@link DeadlineExceededException} saying the budget is below the minimum.
         */
        public @Nullable ContextDoneException failure() {
            return failure;
        }

        /** Whether {@link #failure()} is set. */
        public boolean mustFailFast() {
            return failure != null;
        }

        @Override
        public String toString() {
            return failure != null ? "fail fast: " + failure.getMessage() : "send " + headers;
        }
    }

    /** Builds an {@link OutboundBudget}. */
    public static final class Builder {
        private Duration perHopReserve = Duration.ZERO;
        private Duration minBudget = Duration.ZERO;
        private boolean grpcTimeout = true;
        private @Nullable DeadlineOrigin localOrigin;

        private Builder() {
        }

        /** Time kept back at each call for the response to come back and be handled; zero or more. */
        public Builder perHopReserve(Duration perHopReserve) {
            this.perHopReserve = InboundBudget.Builder.notNegative(perHopReserve, "perHopReserve");
            return this;
        }

        /** Calls whose budget would be below this fail fast; zero or more (a zero budget always fails fast). */
        public Builder minBudget(Duration minBudget) {
            this.minBudget = InboundBudget.Builder.notNegative(minBudget, "minBudget");
            return this;
        }

        /** Whether to send {@code grpc-timeout} beside {@code tether-budget}, for gRPC-aware peers. Default true. */
        public Builder grpcTimeout(boolean send) {
            this.grpcTimeout = send;
            return this;
        }

        /** The origin to name when the context has a deadline that no {@link DeadlineOrigin} is bound for. */
        public Builder localOrigin(DeadlineOrigin origin) {
            this.localOrigin = Objects.requireNonNull(origin, "origin");
            return this;
        }

        /** The policy. */
        public OutboundBudget build() {
            return new OutboundBudget(this);
        }
    }
}
