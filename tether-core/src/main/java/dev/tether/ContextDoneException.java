package dev.tether;

import java.util.concurrent.CancellationException;
import org.jspecify.annotations.Nullable;

/**
 * Why a context is done: {@link ContextCancelledException} or {@link DeadlineExceededException}, Go's
 * {@code context.Canceled} and {@code context.DeadlineExceeded}.
 *
 * <p>A context returns the same instance from every {@link Context#err()} call, and a context cancelled by its
 * parent returns the parent's instance. When the context was cancelled with a cause, that cause is this
 * exception's {@link #getCause() cause}. Like Go's sentinel errors these carry no stack trace, which keeps
 * cancellation cheap; run with {@code -Ddev.tether.captureStackTraces=true} to record where each was created.
 */
public abstract sealed class ContextDoneException extends CancellationException
        permits ContextCancelledException, DeadlineExceededException {

    private static final long serialVersionUID = 1L;

    private static final boolean CAPTURE_STACK_TRACES = Boolean.getBoolean("dev.tether.captureStackTraces");

    ContextDoneException(String message, @Nullable Throwable cause) {
        super(message);
        // Fixes the cause for good: initCause(null) also makes later initCause calls fail, so cause() can't change.
        initCause(cause);
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return CAPTURE_STACK_TRACES ? super.fillInStackTrace() : this;
    }
}
