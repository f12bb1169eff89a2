/**
 * Tether's context: Go's {@code context.Context} for Java.
 *
 * <p>A {@link dev.tether.Context} carries a cancellation signal, an optional deadline and request-scoped values
 * down a call tree. Cancelling a context cancels everything derived from it; the first cancellation wins and its
 * cause sticks. {@link dev.tether.CancellableContext} is {@link java.lang.AutoCloseable}, so try-with-resources
 * plays the part of Go's {@code defer cancel()}.
 */
@NullMarked
package dev.tether;

import org.jspecify.annotations.NullMarked;
