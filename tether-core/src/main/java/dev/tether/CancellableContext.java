package dev.tether;

import org.jspecify.annotations.Nullable;

/**
 * A context its creator can cancel. Cancelling releases what the context holds (its link in the parent, its
 * timer), so every cancellable context must be cancelled or closed: try-with-resources is Java's
 * {@code defer cancel()}.
 *
 * <pre>{@code
 * try (CancellableContext ctx = parent.withTimeout(Duration.ofMillis(300))) {
 *     return backend.fetch(ctx);
 * }
 * }</pre>
 *
 * <p>Only the creator should hold this type. {@link Context#current()} never returns it, and code handed a
 * context to work under should take a plain {@link Context}.
 */
public sealed interface CancellableContext extends Context, AutoCloseable permits CancelContext {

    /**
     * Cancels this context and everything derived from it with {@link ContextCancelledException}. Returns true
     * if this call cancelled it, false if it was already done (cancelled, or past its deadline).
     */
    boolean cancel();

    /**
     * Like {@link #cancel()}, recording {@code cause} as {@link Context#cause()} of this context and its
     * descendants. A null cause is the same as {@link #cancel()}.
     */
    boolean cancel(@Nullable Throwable cause);

    /** The same as {@link #cancel()}. */
    @Override
    void close();
}
