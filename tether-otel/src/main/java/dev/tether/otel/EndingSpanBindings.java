package dev.tether.otel;

import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.internal.ExtendedSpanProcessor;

/**
 * {@link SpanBindings} told by the SDK when a span is ending, while it can still be written: the SDK's
 * {@code ExtendedSpanProcessor} (an internal, experimental interface in 1.68). Loaded only after
 * {@link TetherSpanProcessor} has found that interface, so a different SDK falls back to {@link SpanBindings}.
 */
final class EndingSpanBindings extends SpanBindings implements ExtendedSpanProcessor {

    @Override
    public void onEnding(ReadWriteSpan span) {
        ending(span);
    }

    @Override
    public boolean isOnEndingRequired() {
        return true;
    }
}
