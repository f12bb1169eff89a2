package dev.tether.otel;

import dev.tether.Context;
import dev.tether.ContextDoneException;
import dev.tether.DeadlineExceededException;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.EndedEarly;
import dev.tether.wire.RequestEndedException;
import org.jspecify.annotations.Nullable;

/**
 * How a context ended early, in the terms spans and metrics report: the type, a bounded reason (the same text
 * {@link EndedEarly} puts on the wire), the error type and, if known, who set the deadline.
 */
record Ended(boolean deadline, String reason, String errorType, @Nullable DeadlineOrigin origin) {

    /**
     * How {@code context} ended early; null while it is live, and when it ended because its request was answered
     * (a server integration cancels with {@link RequestEndedException#responseCompleted()} then): that is the
     * normal end of a request's work, not a cancellation.
     */
    static @Nullable Ended of(Context context) {
        ContextDoneException err = context.err();
        if (err == null || isNormalEnd(err)) {
            return null;
        }
        return new Ended(
                err instanceof DeadlineExceededException,
                EndedEarly.of(err).reason(),
                err.getClass().getName(),
                DeadlineOrigin.from(context));
    }

    /** Whether {@code err} is a server's cancel of a request it has answered. */
    static boolean isNormalEnd(ContextDoneException err) {
        return err.getCause() instanceof RequestEndedException ended
                && ended.why() == RequestEndedException.Why.RESPONSE_COMPLETED;
    }

    /** {@value TetherSpans#TYPE_CANCELLED} or {@value TetherSpans#TYPE_DEADLINE_EXCEEDED}. */
    String type() {
        return deadline ? TetherSpans.TYPE_DEADLINE_EXCEEDED : TetherSpans.TYPE_CANCELLED;
    }
}
