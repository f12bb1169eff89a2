package dev.tether.otel;

import dev.tether.Context;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.EndedEarly;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Records on a span why the Tether context it worked under ended early: the attributes below, a
 * {@value #CANCELLED_EVENT} event, and an error status.
 *
 * {@snippet :
 * Span span = tracer.spanBuilder("load order").startSpan();
 * try (SpanBinding binding = TetherSpans.bind(ctx, span)) {   // records the moment ctx ends, if it ends first
 *     return repository.load(ctx, id);
 * } finally {
 *     span.end();
 * }
 * }
 *
 * <h2>What a span gets</h2>
 * <table>
 *   <caption>Attributes set when the context has ended</caption>
 *   <tr><th>attribute</th><th>value</th></tr>
 *   <tr><td>{@value #CANCEL_TYPE_NAME}</td><td>{@value #TYPE_CANCELLED} or {@value #TYPE_DEADLINE_EXCEEDED}</td></tr>
 *   <tr><td>{@value #CANCEL_REASON_NAME}</td><td>the cause's message (else its class's simple name), or the
 *       error's own message when no cause was given; sanitized and at most {@value EndedEarly#MAX_REASON}
 *       characters, as {@link EndedEarly} puts it on the wire</td></tr>
 *   <tr><td>{@value #DEADLINE_ORIGIN_NAME}</td><td>who set the deadline in force ({@link DeadlineOrigin#from}),
 *       {@code service/operation}; absent when nobody named it</td></tr>
 *   <tr><td>{@value #DEADLINE_BUDGET_MS_NAME}</td><td>the budget the span's work had: the context's remaining
 *       time when the span was bound (or as given), in milliseconds; absent without a deadline</td></tr>
 *   <tr><td>{@value #ERROR_TYPE_NAME}</td><td>the error's class name, {@code dev.tether.ContextCancelledException}
 *       or {@code dev.tether.DeadlineExceededException}</td></tr>
 *   <tr><td>{@value #RPC_RESPONSE_STATUS_CODE_NAME}</td><td>on RPC spans of the SDK ({@code rpc.system.name} or
 *       {@code rpc.system} set): {@code CANCELLED} / {@code DEADLINE_EXCEEDED} for gRPC, {@code canceled} /
 *       {@code deadline_exceeded} for Connect</td></tr>
 * </table>
 * The event {@value #CANCELLED_EVENT} carries the type and the reason; the status is {@link StatusCode#ERROR}
 * with the reason as description. The semantic conventions have no cancellation attributes: the {@code context.*}
 * names are Tether's; {@code error.type} and {@code rpc.response.status_code} are the conventions'.
 *
 * <p>Nothing here throws for a span that has ended or does not record: such a span ignores what it is given.
 */
public final class TetherSpans {

    static final String CANCEL_TYPE_NAME = "context.cancel_type";
    static final String CANCEL_REASON_NAME = "context.cancel_reason";
    static final String DEADLINE_ORIGIN_NAME = "context.deadline_origin";
    static final String DEADLINE_BUDGET_MS_NAME = "context.deadline_budget_ms";
    static final String ERROR_TYPE_NAME = "error.type";
    static final String RPC_RESPONSE_STATUS_CODE_NAME = "rpc.response.status_code";

    /** {@value #CANCEL_TYPE_NAME}: {@value #TYPE_CANCELLED} or {@value #TYPE_DEADLINE_EXCEEDED}. */
    public static final AttributeKey<String> CANCEL_TYPE = AttributeKey.stringKey(CANCEL_TYPE_NAME);
    /** {@value #CANCEL_REASON_NAME}: why, for people; bounded. */
    public static final AttributeKey<String> CANCEL_REASON = AttributeKey.stringKey(CANCEL_REASON_NAME);
    /** {@value #DEADLINE_ORIGIN_NAME}: who set the deadline, {@code service/operation}. */
    public static final AttributeKey<String> DEADLINE_ORIGIN = AttributeKey.stringKey(DEADLINE_ORIGIN_NAME);
    /** {@value #DEADLINE_BUDGET_MS_NAME}: the budget the span's work had, in milliseconds. */
    public static final AttributeKey<Long> DEADLINE_BUDGET_MS = AttributeKey.longKey(DEADLINE_BUDGET_MS_NAME);
    /** The semantic conventions' {@value #ERROR_TYPE_NAME}. */
    public static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey(ERROR_TYPE_NAME);
    /** The semantic conventions' {@value #RPC_RESPONSE_STATUS_CODE_NAME}, set on RPC spans only. */
    public static final AttributeKey<String> RPC_RESPONSE_STATUS_CODE =
            AttributeKey.stringKey(RPC_RESPONSE_STATUS_CODE_NAME);

    /** The name of the event added at the moment of cancellation. */
    public static final String CANCELLED_EVENT = "context.cancelled";
    /** The {@value #CANCEL_TYPE_NAME} of a context that was cancelled. */
    public static final String TYPE_CANCELLED = "cancelled";
    /** The {@value #CANCEL_TYPE_NAME} of a context whose deadline passed. */
    public static final String TYPE_DEADLINE_EXCEEDED = "deadline_exceeded";

    private TetherSpans() {}

    /**
     * Records on {@code span} how {@code context} ended, if it has ended early, without a budget. Returns whether
     * anything was recorded: false while the context is live, and when it ended because its request was answered
     * ({@code RequestEndedException.responseCompleted()}, the normal end of a server's request context).
     *
     * @throws NullPointerException if an argument is null
     */
    public static boolean recordCancellation(Context context, Span span) {
        return recordCancellation(context, span, null);
    }

    /**
     * Records on {@code span} how {@code context} ended, if it has, with {@code budget} as
     * {@value #DEADLINE_BUDGET_MS_NAME} (omitted if null). Returns whether anything was recorded.
     *
     * @throws NullPointerException if context or span is null
     */
    public static boolean recordCancellation(Context context, Span span, @Nullable Duration budget) {
        Objects.requireNonNull(context, "context must not be null");
        Objects.requireNonNull(span, "span must not be null");
        Ended ended = Ended.of(context);
        if (ended == null) {
            return false;
        }
        record(ended, span, budget == null ? -1 : Math.max(0, budget.toMillis()));
        return true;
    }

    /**
     * Binds {@code span} to {@code context}: the moment the context ends, on the thread that ends it, the span
     * records how (as {@link #recordCancellation}, with the context's remaining time now as its budget), unless
     * the binding was closed first. Close the binding before ending the span when the work finishes; a context
     * that is already done records at once.
     *
     * @throws NullPointerException if an argument is null
     */
    public static SpanBinding bind(Context context, Span span) {
        Objects.requireNonNull(context, "context must not be null");
        Objects.requireNonNull(span, "span must not be null");
        return SpanBinding.bind(context, span, null);
    }

    /** Sets the attributes, the event and the status; {@code budgetMillis} < 0 means none. */
    static void record(Ended ended, Span span, long budgetMillis) {
        if (!span.isRecording()) {
            return;
        }
        String type = ended.type();
        span.setAttribute(CANCEL_TYPE, type);
        span.setAttribute(CANCEL_REASON, ended.reason());
        DeadlineOrigin origin = ended.origin();
        if (origin != null) {
            span.setAttribute(DEADLINE_ORIGIN, origin.headerValue());
        }
        if (budgetMillis >= 0) {
            span.setAttribute(DEADLINE_BUDGET_MS, budgetMillis);
        }
        span.setAttribute(ERROR_TYPE, ended.errorType());
        String rpcCode = RpcStatus.codeFor(span, ended.deadline());
        if (rpcCode != null) {
            span.setAttribute(RPC_RESPONSE_STATUS_CODE, rpcCode);
        }
        span.addEvent(CANCELLED_EVENT, Attributes.of(CANCEL_TYPE, type, CANCEL_REASON, ended.reason()));
        span.setStatus(StatusCode.ERROR, ended.reason());
    }
}
