package dev.tether;

import org.jspecify.annotations.Nullable;

/** A context's deadline (its own or an ancestor's) passed before it was cancelled. */
public final class DeadlineExceededException extends ContextDoneException {

    private static final long serialVersionUID = 1L;

    /** What a context records when its deadline passes. */
    public DeadlineExceededException() {
        this("context deadline exceeded", null);
    }

    /** With a message and cause of the caller's, for integrations that relay a deadline from elsewhere. */
    public DeadlineExceededException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
