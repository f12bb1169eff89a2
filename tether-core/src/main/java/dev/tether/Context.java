package dev.tether;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * A request's lifecycle: a cancellation signal, an optional deadline and request-scoped values, carried down the
 * call tree. This is Go's {@code context.Context} for Java, with the same rules.
 *
 * <ul>
 *   <li>Contexts are immutable and thread-safe. Deriving one ({@link #withCancel()}, {@link #withTimeout},
 *       {@link #withDeadline}, {@link #withValue}) makes a child; the parent is unchanged.</li>
 *   <li>When a context is done, so is every context derived from it, with the same {@link #err()} and
 *       {@link #cause()}; never the other way round. The first cancellation wins and its cause sticks.</li>
 *   <li>The earliest deadline on the path from the root wins. A deadline that has passed makes the context done
 *       whether or not a timer has fired or anyone looked; no thread and no timer is used for a deadline unless
 *       someone waits on it ({@link #onDone}, {@link #done()}).</li>
 *   <li>Values are found by {@link Key} identity; the nearest binding wins.</li>
 *   <li>{@link #current()} is the context bound to this thread by {@link #attach()}, {@link #run} or
 *       {@link #call}; it is not inherited by new threads (use {@link #wrap} or {@link ContextExecutors}).</li>
 * </ul>
 *
 * <p>Users cannot implement this interface; contexts come from {@link #background()}, {@link #todo()},
 * {@link #root(TimeSource)} and the {@code with…} methods. Every null argument is rejected with a
 * {@link NullPointerException} naming it.
 */
public sealed interface Context permits AbstractContext, CancellableContext {

    /** The root context: never done, no deadline, no values. Always the same instance. Go's {@code Background()}. */
    static Context background() {
        return SimpleContext.BACKGROUND;
    }

    /**
     * A root like {@link #background()}, to mark code that should receive a context but does not yet. Go's
     * {@code TODO()}. Always the same instance; static analysis flags it.
     */
    static Context todo() {
        return SimpleContext.TODO;
    }

    /**
     * A root like {@link #background()} whose deadlines and timers run on the given time source. Tests use it
     * with {@link ManualTimeSource} to check deadline logic without sleeping.
     */
    static Context root(TimeSource timeSource) {
        return SimpleContext.root(timeSource);
    }

    /**
     * The context bound to this thread, else {@link #background()}. When a {@link CancellableContext} is bound,
     * this returns a view of it that shares its done state, deadline and values but is not itself cancellable:
     * code that merely finds a context cannot cancel it.
     */
    static Context current() {
        return Binding.current();
    }

    /** A child that is cancelled by {@link CancellableContext#cancel()} or when this context is done. */
    CancellableContext withCancel();

    /**
     * A child whose deadline is {@code timeout} from now (or this context's, if that is earlier). A timeout of
     * zero or less makes the child done at once with {@link DeadlineExceededException}, unless this context is
     * already done, whose err and cause it then takes.
     */
    CancellableContext withTimeout(Duration timeout);

    /** A child whose deadline is {@code deadline}; a deadline later than this context's keeps this context's. */
    CancellableContext withDeadline(Instant deadline);

    /** A child that carries {@code value} under {@code key}, hiding any value an ancestor binds to that key. */
    <T> Context withValue(Key<T> key, T value);

    /** A child that keeps this context's values but is never done and has no deadline. Go's {@code WithoutCancel}. */
    Context withoutCancel();

    /** Whether this context is done: cancelled, or its deadline has passed. */
    boolean isDone();

    /**
     * Null while the context is live; then why it is done: a {@link ContextCancelledException} or a
     * {@link DeadlineExceededException}, the same instance on every call.
     */
    @Nullable ContextDoneException err();

    /**
     * Null while the context is live; then the cause given to {@link CancellableContext#cancel(Throwable)}, or
     * {@link #err()} when none was given. Go's {@code context.Cause}.
     */
    @Nullable Throwable cause();

    /** When this context's deadline passes, if it has one. The same Instant on every call. */
    Optional<Instant> deadline();

    /** The time left before the deadline (zero once it has passed), if the context has a deadline. */
    Optional<Duration> remaining();

    /** The value bound to {@code key} by the nearest binding on the path from the root, else null. */
    <T> @Nullable T value(Key<T> key);

    /** Throws {@link #err()} if this context is done; its cause is {@link #cause()} where the two differ. */
    void throwIfDone();

    /**
     * Runs {@code action} once, after this context is done, on a new virtual thread: never on the stack of the
     * thread that cancels. Runs it at once (still asynchronously) if the context is already done. Go's
     * {@code AfterFunc}.
     */
    Registration onDone(Runnable action);

    /**
     * Like {@link #onDone(Runnable)}, but runs {@code action} via {@code executor}. With {@code Runnable::run} the
     * action runs on the thread that ends the context, in the middle of cancelling: keep it short and
     * non-blocking.
     */
    Registration onDone(Runnable action, Executor executor);

    /**
     * A stage that completes normally when this context is done, and never if it never is. Nobody outside can
     * complete it. Non-async dependents run on the thread that ends the context.
     */
    CompletionStage<Void> done();

    /** The time source this context's deadlines are measured by, inherited from its root. */
    TimeSource timeSource();

    /** Binds this context to the current thread until the returned scope is closed. */
    Scope attach();

    /** Runs {@code task} with this context bound to the current thread, then restores the previous one. */
    void run(Runnable task);

    /**
     * Calls {@code task} with this context bound to the current thread, then restores the previous one. The
     * task's exception is rethrown unchanged.
     */
    <V> V call(Callable<V> task) throws Exception;

    /** A runnable that runs {@code task} with this context bound, on whatever thread runs it. */
    Runnable wrap(Runnable task);

    /** A callable that calls {@code task} with this context bound, on whatever thread calls it. */
    <V> Callable<V> wrap(Callable<V> task);
}
