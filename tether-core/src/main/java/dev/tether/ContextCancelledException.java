package dev.tether;

import org.jspecify.annotations.Nullable;

/** A context was cancelled before its deadline, by {@code cancel()} on it or on an ancestor. */
public final class ContextCancelledException extends ContextDoneException {

    private static final long serialVersionUID = 1L;

    /** Without a cause: what {@link CancellableContext#cancel()} records. */
    public ContextCancelledException() {
        this(null);
    }

    /** With the cause given to {@link CancellableContext#cancel(Throwable)}, which may be null. */
    public ContextCancelledException(@Nullable Throwable cause) {
        this("context cancelled", cause);
    }

    /** With a message of the caller's, for integrations that relay a cancellation from elsewhere. */
    public ContextCancelledException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
