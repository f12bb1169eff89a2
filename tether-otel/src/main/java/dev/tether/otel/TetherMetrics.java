package dev.tether.otel;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ContextDoneException;
import dev.tether.DeadlineExceededException;
import dev.tether.spi.ContextObserver;
import dev.tether.spi.ContextObservers;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.InboundCall;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.LongHistogram;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.MeterProvider;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * Cancellation metrics on the OpenTelemetry metrics API (so on any exporter: OTLP, Prometheus, ...): how many
 * contexts ended early, by type and deadline origin; the budget left at each hop; and how long a cancel took to
 * reach the contexts below it.
 *
 * {@snippet :
 * TetherMetrics metrics = TetherMetrics.builder(openTelemetry.getMeterProvider()).build();
 * ContextObservers.Installation installation = metrics.install();   // counts ends and propagation, process-wide
 *
 * // in a server, once the request's context is made; in a client, before the call goes out
 * metrics.recordBudget(requestContext, TetherMetrics.Direction.INBOUND);
 * }
 *
 * <h2>Instruments</h2>
 * <table>
 *   <caption>Instruments, units and attributes</caption>
 *   <tr><th>name</th><th>kind, unit</th><th>attributes</th><th>recorded</th></tr>
 *   <tr><td>{@value #CANCELLED}</td><td>counter, {@code {context}}</td>
 *       <td>{@code context.cancel_type}; {@code context.deadline_origin} for deadlines</td>
 *       <td>when a context ends early: its deadline passed, or it was cancelled with a cause. A cancel without a
 *       cause is how every context is closed after its work (try-with-resources, Go's {@code defer cancel()}),
 *       so it is not counted; nor is a server's cancel of a request it answered
 *       ({@code RequestEndedException.responseCompleted()}), nor a context ended by an ancestor (the ancestor
 *       is)</td></tr>
 *   <tr><td>{@value #REMAINING}</td><td>histogram, {@code s}</td>
 *       <td>{@code tether.budget.direction} ({@code inbound} / {@code outbound}), {@code context.deadline_origin}</td>
 *       <td>by {@link #recordBudget} or {@link #recordInbound}: servers as a request arrives, clients as a call
 *       leaves</td></tr>
 *   <tr><td>{@value #PROPAGATION}</td><td>histogram, {@code s}</td><td>{@code context.cancel_type}</td>
 *       <td>when an end reached at least one descendant context: the time to end them all</td></tr>
 *   <tr><td>{@value #DESCENDANTS}</td><td>histogram, {@code {context}}</td><td>{@code context.cancel_type}</td>
 *       <td>with the above: how many descendants that end reached</td></tr>
 * </table>
 *
 * <h2>Cardinality</h2>
 * {@code context.cancel_type} and {@code tether.budget.direction} have two values each. An origin comes from
 * callers' headers, so it is bounded three ways: {@link DeadlineOrigin} holds only token characters and at most
 * 193 of them; by default only its service is recorded ({@link OriginDetail}), since operations may embed ids;
 * and only the first {@link Builder#maxOrigins} distinct values are recorded as they are, every later one as
 * {@code _other}. An unnamed origin is {@code _unknown}.
 *
 * <h2>Where the origin comes from</h2>
 * Servers bind the origin under the context that owns the deadline ({@code origin.bindTo(ctx.withTimeout(b))}),
 * so the context that ends does not carry it itself. The observer therefore notes the origin it sees below an
 * owner, when a child context is made there or a task is handed off from there, and keys it by the owner until
 * the owner ends; {@link #recordInbound} makes sure a server's call is noted. At most {@value #MAX_TRACKED} owners
 * are remembered at once (done ones are swept when the table is full); past that, and for an owner nothing was
 * seen under, the origin is {@code _unknown}.
 */
public final class TetherMetrics {

    /** The instrumentation scope name of the meter. */
    public static final String SCOPE = "dev.tether.otel";
    /** Contexts ended early. */
    public static final String CANCELLED = "tether.context.cancelled";
    /** The deadline budget left at a hop. */
    public static final String REMAINING = "tether.context.deadline.remaining";
    /** How long ending a context's descendants took. */
    public static final String PROPAGATION = "tether.context.cancel.propagation.duration";
    /** How many descendants a context's end reached. */
    public static final String DESCENDANTS = "tether.context.cancel.descendants";

    /** {@code tether.budget.direction}: {@code inbound} or {@code outbound}. */
    public static final AttributeKey<String> BUDGET_DIRECTION = AttributeKey.stringKey("tether.budget.direction");

    /** Owners whose origin is remembered at once; bounds the memory of leaked contexts never seen to end. */
    static final int MAX_TRACKED = 4096;

    private static final List<Double> BUDGET_BUCKETS = List.of(
            0.0, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0);
    private static final List<Double> PROPAGATION_BUCKETS = List.of(
            1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 5e-3, 1e-2, 0.1);
    private static final List<Long> DESCENDANT_BUCKETS = List.of(1L, 2L, 5L, 10L, 20L, 50L, 100L, 1000L, 10_000L);

    private static final Attributes CANCELLED_TYPE =
            Attributes.of(TetherSpans.CANCEL_TYPE, TetherSpans.TYPE_CANCELLED);
    private static final Attributes DEADLINE_TYPE =
            Attributes.of(TetherSpans.CANCEL_TYPE, TetherSpans.TYPE_DEADLINE_EXCEEDED);

    /** Where a budget was measured. */
    public enum Direction {
        /** As a request arrived at a server. */
        INBOUND,
        /** As a call left a client. */
        OUTBOUND;

        final String value = name().toLowerCase(Locale.ROOT);
    }

    /** How much of a deadline's origin metrics record. */
    public enum OriginDetail {
        /** No {@code context.deadline_origin} attribute. */
        NONE,
        /** The service only: {@code gateway}. The default. */
        SERVICE,
        /** Service and operation: {@code gateway/POST:/checkout}. Only for operations without ids in them. */
        SERVICE_AND_OPERATION
    }

    private final LongCounter cancelled;
    private final DoubleHistogram remaining;
    private final DoubleHistogram propagation;
    private final LongHistogram descendants;
    private final OriginLabels labels;
    /** Attributes per origin label, for the counter's deadline ends and each budget direction; bounded by labels. */
    private final ConcurrentHashMap<String, Attributes> deadlineAttributes = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Attributes> inboundAttributes = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Attributes> outboundAttributes = new ConcurrentHashMap<>();
    /** Owner -> origin of its tasks' contexts; written on hand-off threads, removed by the ending thread. */
    private final ConcurrentHashMap<CancellableContext, DeadlineOrigin> origins = new ConcurrentHashMap<>();
    /** Full-map attempts left before the next sweep; racy on purpose (a lost update moves a sweep). */
    private final AtomicInteger sweepCredit = new AtomicInteger();
    private final Observer observer = new Observer();

    private TetherMetrics(Builder b) {
        Meter meter = b.meterProvider.meterBuilder(SCOPE).build();
        cancelled = meter.counterBuilder(CANCELLED)
                .setUnit("{context}")
                .setDescription("Contexts that ended early: deadline passed, or cancelled with a cause")
                .build();
        remaining = meter.histogramBuilder(REMAINING)
                .setUnit("s")
                .setDescription("Deadline budget left when a request arrived or a call left")
                .setExplicitBucketBoundariesAdvice(BUDGET_BUCKETS)
                .build();
        propagation = meter.histogramBuilder(PROPAGATION)
                .setUnit("s")
                .setDescription("Time to end the descendants of a context that ended")
                .setExplicitBucketBoundariesAdvice(PROPAGATION_BUCKETS)
                .build();
        descendants = meter.histogramBuilder(DESCENDANTS)
                .ofLongs()
                .setUnit("{context}")
                .setDescription("Descendant contexts a context's end reached")
                .setExplicitBucketBoundariesAdvice(DESCENDANT_BUCKETS)
                .build();
        labels = new OriginLabels(b.originDetail, b.maxOrigins);
    }

    /** A builder recording on meters of {@code meterProvider}. */
    public static Builder builder(MeterProvider meterProvider) {
        return new Builder(Objects.requireNonNull(meterProvider, "meterProvider must not be null"));
    }

    /**
     * Installs the observer that counts ends and records propagation, process-wide, until the returned
     * installation is closed. {@link #recordBudget} works without it.
     *
     * @throws IllegalStateException if this instance is installed already
     */
    public ContextObservers.Installation install() {
        return ContextObservers.install(observer);
    }

    /**
     * Records {@code context}'s remaining budget now, with the origin {@link DeadlineOrigin#from} names. Returns
     * false, recording nothing, if the context has no deadline.
     *
     * @throws NullPointerException if an argument is null
     */
    public boolean recordBudget(Context context, Direction direction) {
        Objects.requireNonNull(context, "context must not be null");
        Objects.requireNonNull(direction, "direction must not be null");
        Optional<Duration> left = context.remaining();
        if (left.isEmpty()) {
            return false;
        }
        recordBudget(left.get(), DeadlineOrigin.from(context), direction);
        return true;
    }

    /**
     * Records a remaining budget measured elsewhere (such as an inbound header's, before any context is made).
     * A negative budget is recorded as zero.
     *
     * @throws NullPointerException if remaining or direction is null
     */
    public void recordBudget(Duration remaining, @Nullable DeadlineOrigin origin, Direction direction) {
        Objects.requireNonNull(remaining, "remaining must not be null");
        Objects.requireNonNull(direction, "direction must not be null");
        double seconds = remaining.isNegative() ? 0 : remaining.getSeconds() + remaining.getNano() / 1e9;
        String label = labels.label(origin);
        ConcurrentHashMap<String, Attributes> cache =
                direction == Direction.INBOUND ? inboundAttributes : outboundAttributes;
        Attributes attributes = label == null
                ? Attributes.of(BUDGET_DIRECTION, direction.value)
                : cache.computeIfAbsent(label, l -> Attributes.of(BUDGET_DIRECTION, direction.value,
                        TetherSpans.DEADLINE_ORIGIN, l));
        this.remaining.record(seconds, attributes);
    }

    /**
     * Records a server request's budget ({@link InboundCall#budget()}, as granted by the server's policy, with
     * {@link InboundCall#origin()}) as {@link Direction#INBOUND}, and tells the installed observer the call's
     * origin, so that if the call's deadline passes it is counted under that origin even when the handler makes no
     * child context and hands off no task.
     *
     * @throws NullPointerException if call is null
     */
    public void recordInbound(InboundCall call) {
        Objects.requireNonNull(call, "call must not be null");
        recordBudget(call.budget().budget(), call.origin(), Direction.INBOUND);
        // The observer learns an owner's origin from a child made under the origin-bound context (see
        // contextCreated); the call's context is such a place, and a child made and closed at once is the only
        // way the public API reaches its owner. Closing it without a cause is not counted.
        call.context().withCancel().close();
    }

    /** Owners whose origin is remembered now; for tests of retention. */
    int trackedOrigins() {
        return origins.size();
    }

    private void ended(CancellableContext context, boolean byAncestor, int descendantsEnded, long nanos) {
        DeadlineOrigin origin = origins.remove(context);
        if (byAncestor) {
            return; // counted at the ancestor whose end reached it
        }
        ContextDoneException err = context.err();
        if (err == null) {
            return;
        }
        boolean deadline = err instanceof DeadlineExceededException;
        if (deadline) {
            if (origin == null) {
                origin = DeadlineOrigin.from(context);
            }
            cancelled.add(1, deadlineAttributes(origin));
        } else if (err.getCause() != null && !Ended.isNormalEnd(err)) {
            cancelled.add(1, CANCELLED_TYPE);
        }
        if (descendantsEnded > 0) {
            Attributes type = deadline ? DEADLINE_TYPE : CANCELLED_TYPE;
            propagation.record(nanos / 1e9, type);
            descendants.record(descendantsEnded, type);
        }
    }

    private Attributes deadlineAttributes(@Nullable DeadlineOrigin origin) {
        String label = labels.label(origin);
        if (label == null) {
            return DEADLINE_TYPE;
        }
        return deadlineAttributes.computeIfAbsent(label, l -> {
            AttributesBuilder b = DEADLINE_TYPE.toBuilder();
            return b.put(TetherSpans.DEADLINE_ORIGIN, l).build();
        });
    }

    /** Notes the origin {@code context} names for its owner's deadline, if it names one. */
    private void remember(CancellableContext owner, Context context) {
        if (owner.isDone()) {
            return;
        }
        DeadlineOrigin origin = DeadlineOrigin.from(context);
        if (origin == null || origins.containsKey(owner)) {
            return;
        }
        if (origins.size() >= MAX_TRACKED) {
            // Owners that ended by an ancestor's end are not reported one by one: their entries go here. A sweep
            // that frees nothing is not repeated for the next MAX_TRACKED attempts, so each costs O(1) amortised.
            if (sweepCredit.getAndDecrement() > 0) {
                return;
            }
            origins.keySet().removeIf(Context::isDone);
            if (origins.size() >= MAX_TRACKED) {
                sweepCredit.set(MAX_TRACKED);
                return;
            }
        }
        origins.putIfAbsent(owner, origin);
        if (owner.isDone()) {
            origins.remove(owner); // ended meanwhile: its contextEnded may have run before the put
        }
    }

    /** Hears of ends and hand-offs; never throws into tether-core (a failing exporter must not break a cancel). */
    private final class Observer implements ContextObserver {

        @Override
        public void contextEnded(
                CancellableContext context, boolean byAncestor, int descendantsEnded, long propagationNanos) {
            try {
                ended(context, byAncestor, descendantsEnded, propagationNanos);
            } catch (RuntimeException e) {
                // Degrade rather than throw on the cancelling thread: a lost data point, not a broken cancel.
            }
        }

        @Override
        public void contextCreated(CancellableContext context, @Nullable CancellableContext parent) {
            // A child that shares its parent's deadline sees the origin bound between the two.
            if (parent != null && parent.deadline().isPresent()) {
                try {
                    remember(parent, context);
                } catch (RuntimeException e) {
                    // As below.
                }
            }
        }

        @Override
        public @Nullable Object taskSubmitted(@Nullable CancellableContext owner, Context context) {
            if (owner != null && owner.deadline().isPresent()) {
                try {
                    remember(owner, context);
                } catch (RuntimeException e) {
                    // As above: the hand-off goes on without the origin.
                }
            }
            return null;
        }

        @Override
        public String toString() {
            return "TetherMetrics";
        }
    }

    /** Configures {@link TetherMetrics}. */
    public static final class Builder {
        private final MeterProvider meterProvider;
        private OriginDetail originDetail = OriginDetail.SERVICE;
        private int maxOrigins = 32;

        private Builder(MeterProvider meterProvider) {
            this.meterProvider = meterProvider;
        }

        /** How much of a deadline's origin to record; {@link OriginDetail#SERVICE} by default. */
        public Builder originDetail(OriginDetail originDetail) {
            this.originDetail = Objects.requireNonNull(originDetail, "originDetail must not be null");
            return this;
        }

        /**
         * How many distinct origin values to record before the rest become {@code _other}; 32 by default.
         *
         * @throws IllegalArgumentException if maxOrigins is not between 1 and 1000
         */
        public Builder maxOrigins(int maxOrigins) {
            if (maxOrigins < 1 || maxOrigins > 1000) {
                throw new IllegalArgumentException("maxOrigins: " + maxOrigins + " (expected: 1 to 1000)");
            }
            this.maxOrigins = maxOrigins;
            return this;
        }

        /** The metrics, with their instruments made on the meter provider. */
        public TetherMetrics build() {
            return new TetherMetrics(this);
        }
    }
}
