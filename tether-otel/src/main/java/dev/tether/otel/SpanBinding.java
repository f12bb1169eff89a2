package dev.tether.otel;

import dev.tether.Context;
import dev.tether.Registration;
import io.opentelemetry.api.trace.Span;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A span bound to a Tether context by {@link TetherSpans#bind}: if the context ends early before the binding is
 * closed, the span records how, on the thread that ends the context, at that moment. A context cancelled because
 * its request was answered ({@code RequestEndedException.responseCompleted()}) did not end early: nothing is
 * recorded. Closing the binding (when the work
 * finished normally) stops it; once {@link #close()} returns, the binding writes nothing more to the span, so the
 * span can be ended right after.
 *
 * {@snippet :
 * try (SpanBinding binding = TetherSpans.bind(ctx, span)) {
 *     return work(ctx);
 * } finally {
 *     span.end();
 * }
 * }
 *
 * <p>Each binding holds one {@code onDone} registration in the context until it is closed or the context ends, so
 * close every binding whose context outlives its span.
 */
public final class SpanBinding implements AutoCloseable {

    /*
     * Implementation: the state goes LIVE -> RECORDING -> RECORDED (or ENDED_NORMALLY, for a request answered) when
     * the context ends first, or LIVE -> CLOSED
     * when close() comes first; the two race for LIVE by CAS, so the span is written at most once, and never after
     * close() returned: a close() that loses waits the few attribute writes out (it never blocks on anything else).
     * The context's listeners run in no set order, so the work may learn of the end from another listener (a
     * Blocking wait, done()) and close before this one runs: close() then records itself, if the context is done.
     * The onDone action runs with Runnable::run on the thread that ends the context, so the event's timestamp is
     * the moment of cancellation. Nothing here is retained by the context after close() or the context's end.
     */

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(SpanBinding.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final int LIVE = 0;
    private static final int RECORDING = 1;
    private static final int RECORDED = 2;
    private static final int CLOSED = 3;
    /** The context ended without a cancellation to record: its request was answered. */
    private static final int ENDED_NORMALLY = 4;

    private final Context context;
    private final Span span;
    /** The remaining time when bound, in milliseconds; -1 without a deadline. */
    private final long budgetMillis;
    /** Run once the span has recorded (the processor forgets the binding then); null if nobody asks. */
    private final @Nullable Runnable afterRecord;
    private volatile int state;
    /** Written by bind() before the binding is handed out, read by close(). */
    private volatile @Nullable Registration registration;

    private SpanBinding(Context context, Span span, long budgetMillis, @Nullable Runnable afterRecord) {
        this.context = context;
        this.span = span;
        this.budgetMillis = budgetMillis;
        this.afterRecord = afterRecord;
    }

    static SpanBinding bind(Context context, Span span, @Nullable Runnable afterRecord) {
        long budget = context.remaining().map(Duration::toMillis).orElse(-1L);
        SpanBinding binding = new SpanBinding(context, span, budget, afterRecord);
        // A context that is done already runs fire() here, before this returns.
        binding.registration = context.onDone(binding::fire, Runnable::run);
        return binding;
    }

    private void fire() {
        if (!STATE.compareAndSet(this, LIVE, RECORDING)) {
            return;
        }
        int outcome = ENDED_NORMALLY;
        try {
            Ended ended = Ended.of(context);
            if (ended != null) {
                TetherSpans.record(ended, span, budgetMillis);
                outcome = RECORDED;
            }
        } finally {
            state = outcome;
            if (afterRecord != null) {
                afterRecord.run();
            }
        }
    }

    /** The span this binding writes to. */
    public Span span() {
        return span;
    }

    /** The context this binding watches. */
    public Context context() {
        return context;
    }

    /** Whether the context ended early while bound and the span has recorded it. */
    public boolean recorded() {
        return state == RECORDED;
    }

    /** Whether the context's end has been handled: recorded, or found to be a normal end. */
    boolean fired() {
        int s = state;
        return s == RECORDED || s == ENDED_NORMALLY;
    }

    /**
     * Stops the binding: if the context has not ended, it no longer writes to the span and releases its
     * registration; if it has ended early and the span has not recorded it yet, records it now; if it is recording
     * right now, waits until it has finished. Idempotent.
     */
    @Override
    public void close() {
        if (state == LIVE && context.isDone()) {
            // Ended, and its onDone action has not run yet: the work may have seen the end through another
            // listener first and be closing now. Record here, while the span is still open.
            fire();
        }
        if (STATE.compareAndSet(this, LIVE, CLOSED)) {
            Registration r = registration;
            if (r != null) {
                r.stop();
            }
            return;
        }
        while (state == RECORDING) {
            Thread.onSpinWait(); // a handful of attribute writes on the ending thread
        }
    }

    @Override
    public String toString() {
        String s = switch (state) {
            case LIVE -> "live";
            case RECORDING -> "recording";
            case RECORDED -> "recorded";
            case ENDED_NORMALLY -> "ended normally";
            default -> "closed";
        };
        return "SpanBinding[" + span.getSpanContext().getSpanId() + ", " + s + "]";
    }
}
