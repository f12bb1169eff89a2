package dev.tether.otel;

import dev.tether.Context;
import dev.tether.ContextDoneException;
import dev.tether.DeadlineExceededException;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.EndedEarly;
import org.jspecify.annotations.Nullable;

/**
 * How a done context ended, in the terms spans and metrics report: the type, a bounded reason (the same text
 * {@link EndedEarly} puts on the wire), the error type and, if known, who set the deadline.
 */
record Ended(boolean deadline, String reason, String errorType, @Nullable DeadlineOrigin origin) {

    /** How {@code context} ended; null while it is live. */
    static @Nullable Ended of(Context context) {
        ContextDoneException err = context.err();
        if (err == null) {
            return null;
        }
        return new Ended(
                err instanceof DeadlineExceededException,
                EndedEarly.of(err).reason(),
                err.getClass().getName(),
                DeadlineOrigin.from(context));
    }

    /** {@value TetherSpans#TYPE_CANCELLED} or {@value TetherSpans#TYPE_DEADLINE_EXCEEDED}. */
    String type() {
        return deadline ? TetherSpans.TYPE_DEADLINE_EXCEEDED : TetherSpans.TYPE_CANCELLED;
    }
}
