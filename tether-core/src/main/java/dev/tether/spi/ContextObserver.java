package dev.tether.spi;

import dev.tether.CancellableContext;
import dev.tether.Context;
import org.jspecify.annotations.Nullable;

/**
 * Hears of the lifecycle of contexts and of the tasks bound to them: the hook that leak detection, JFR events and
 * metrics are built on. Install one with {@link ContextObservers#install}; with none installed, each hook point in
 * tether-core costs one volatile read.
 *
 * <p>Only cancellable contexts ({@code withCancel}, {@code withTimeout}, {@code withDeadline}) are reported: they
 * are the nodes of the cancellation tree. A task's context is reported with its {@code owner}, the nearest
 * cancellable context at or above it (null under a root, where nothing can end).
 *
 * <p>Every method runs on the thread that caused the event, inline, so it must be fast, must not block and must
 * not throw; a throwing observer breaks the caller's operation. All methods have empty defaults.
 */
public interface ContextObserver {

    /**
     * A cancellable context was derived, on the deriving thread. {@code parent} is its nearest cancellable
     * ancestor, or null if there is none (it hangs under a root).
     */
    default void contextCreated(CancellableContext context, @Nullable CancellableContext parent) {}

    /**
     * {@code cancel()}, {@code cancel(cause)} or {@code close()} was called on {@code context}, on the calling
     * thread, before it takes effect; also when the context had already ended (calling it then is still what Go's
     * lost-cancel rule asks for).
     */
    default void cancelCalled(CancellableContext context, @Nullable Throwable cause) {}

    /**
     * {@code context} ended, on the thread that ended it (a canceller, a thread that saw its deadline pass, or the
     * timer), after it and its registered descendants were ended. {@code byAncestor} tells whether an ancestor's
     * end reached it (then its own cancel or deadline did not end it); {@code descendantsEnded} counts the
     * contexts below it that this end reached; {@code propagationNanos} is how long ending them took. Contexts
     * ended as descendants of another are not reported one by one.
     */
    default void contextEnded(
            CancellableContext context, boolean byAncestor, int descendantsEnded, long propagationNanos) {}

    /**
     * A task was bound to {@code context} (by {@code wrap}, a {@code TaskGroup} fork, or {@code run}/{@code call},
     * where submission and start coincide), on the submitting thread. The returned token, which may be null, is
     * passed to {@link #taskStarted}.
     */
    default @Nullable Object taskSubmitted(@Nullable CancellableContext owner, Context context) {
        return null;
    }

    /**
     * The task begins to run on the current thread with {@code context} attached. {@code submitted} is what
     * {@link #taskSubmitted} returned (null if this observer was not installed then). The returned token, which
     * may be null, is passed to {@link #taskEnded}.
     */
    default @Nullable Object taskStarted(
            @Nullable CancellableContext owner, Context context, @Nullable Object submitted) {
        return null;
    }

    /** The task ended (returned or threw) on the current thread; {@code started} is what {@link #taskStarted} returned. */
    default void taskEnded(@Nullable Object started) {}
}
