package dev.tether.wire;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ContextDoneException;
import dev.tether.DeadlineExceededException;
import dev.tether.Registration;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * One request on a server, from its headers to its end: the context its handler runs under, and the single
 * decision of how it ended. Server integrations (the Jetty handler, the Servlet filter, gRPC) share it, so each
 * gives the same answers; applications see it through their integration's observer.
 *
 * {@snippet :
 * InboundCall call = InboundCall.start(serverContext, policy.read(headers), DeadlineOrigin.sanitized("orders", path));
 * call.onEndedEarly(c -> transport.answer(c.endedEarly()));   // on a virtual thread: 504, or abort
 * try (InboundCall.Entered entered = call.enter()) {            // binds the context; interrupts if it ends early
 *     if (entered.admitted()) handler.handle(request, response);
 *     call.complete();
 * } catch (Throwable x) {
 *     if (call.fail(x)) transport.answerError(x);
 * }
 * }
 *
 * <h2>How a call ends</h2>
 * Exactly one of three things ends it, whichever comes first:
 * <ul>
 *   <li>{@link #complete()}: the handler finished and the response is complete. The context is cancelled with
 *       {@link RequestEndedException#responseCompleted()}, so whatever the request started stops.</li>
 *   <li>{@link #fail(Throwable)}: the handler threw. The context is cancelled with that exception as its cause;
 *       the integration answers 500 (or 504 when the exception says a deadline passed, here or downstream) and
 *       never shows a stack trace.</li>
 *   <li>The context ends first: its budget ran out, the client disconnected (the integration cancels with
 *       {@link RequestEndedException#clientDisconnected}), or the server's context was cancelled. The handler's
 *       thread is interrupted if it is inside {@link #enter()}, and the {@link #onEndedEarly} action runs on a new
 *       virtual thread to answer at once (504, or the configured fallback) even if the handler is stuck.</li>
 * </ul>
 *
 * <p>Implementation overview. One int state, changed once by CAS from {@code HANDLING} to {@code COMPLETED}
 * (complete or fail) or {@code ENDED_EARLY} (the context's onDone action); the winner owns the response. The
 * onDone registration is stopped before a completed call cancels its context, so a normal request starts no
 * thread. The handler guard is published in a volatile field before {@link #enter()} re-reads the state, and the
 * onDone action sets the state before it reads the field: one of the two sees the other, so a handler either is
 * not admitted or is interrupted.
 */
public final class InboundCall {

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(InboundCall.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final int HANDLING = 0;
    private static final int COMPLETED = 1;
    private static final int ENDED_EARLY = 2;
    private static final long NOT_ENDED = Long.MIN_VALUE;
    // How deep into a cause chain a failure is searched for what it says about an early end.
    private static final int MAX_CAUSES = 8;

    // The request's context: this object is its owner for the request's life, as a TaskGroup owns its own.
    @SuppressWarnings("CTX007")
    private final CancellableContext cancellable;
    @SuppressWarnings("CTX007")
    private final Context context;
    private final InboundBudget.Result budget;
    private final DeadlineOrigin origin;
    private final DeadlineOrigin self;
    private final long startNanos;

    private volatile int state = HANDLING;
    // Written by the thread entering the handler, read by the onDone action (see the class comment).
    private volatile @Nullable HandlerGuard guard;
    // Written once by onEndedEarly() before the request can end early through it; read by complete().
    private volatile @Nullable Registration registration;
    // Written once by the state's winner before anyone reads them (the reader has seen the state change).
    private volatile @Nullable Throwable failure;
    private volatile long endNanos = NOT_ENDED;
    private volatile boolean interrupted;

    private InboundCall(Context parent, InboundBudget.Result budget, DeadlineOrigin self) {
        this.budget = budget;
        this.self = self;
        this.origin = budget.origin(self);
        this.startNanos = parent.timeSource().nanoTime();
        this.cancellable = parent.withTimeout(budget.belowMinimum() ? Duration.ZERO : budget.budget());
        this.context = origin.bindTo(cancellable);
    }

    /**
     * Starts a call: a child of {@code parent} (the server's context) with the budget's deadline, and the
     * deadline's origin bound. A budget {@linkplain InboundBudget.Result#belowMinimum() below the minimum} makes
     * a context that is done at once, so the call ends early before any handler runs.
     *
     * @param self this server's service and the request's operation, named when the server set the deadline
     */
    public static InboundCall start(Context parent, InboundBudget.Result budget, DeadlineOrigin self) {
        Objects.requireNonNull(parent, "parent");
        Objects.requireNonNull(budget, "budget");
        Objects.requireNonNull(self, "self");
        return new InboundCall(parent, budget, self);
    }

    /**
     * Registers what the integration does when the context ends before the call completed: answer at once. Runs
     * once, on a new virtual thread, after the handler's thread (if inside {@link #enter()}) was interrupted; at
     * once if the context is already done. Call it once, before {@link #enter()}.
     *
     * @throws IllegalStateException if called twice
     */
    public void onEndedEarly(Consumer<? super InboundCall> action) {
        Objects.requireNonNull(action, "action");
        if (registration != null) {
            throw new IllegalStateException("onEndedEarly: already registered");
        }
        registration = cancellable.onDone(() -> {
            if (STATE.compareAndSet(this, HANDLING, ENDED_EARLY)) {
                endNanos = cancellable.timeSource().nanoTime();
                HandlerGuard g = guard;
                if (g != null && g.fire()) {
                    interrupted = true;
                }
                action.accept(this);
            }
        });
    }

    /**
     * Binds the call's context to this thread and arms the interrupt for it. Use in try-with-resources around the
     * handler; check {@link Entered#admitted()} first, which is false if the call already ended.
     */
    public Entered enter() {
        HandlerGuard g = new HandlerGuard(Thread.currentThread());
        guard = g;
        // A done context will end the call early (its onDone action may not have run yet): do not start.
        boolean admitted = state == HANDLING && !cancellable.isDone();
        return new Entered(g, admitted, context.attach());
    }

    /** The handler's stay inside {@link #enter()}; closing it unbinds the context and clears our interrupt. */
    public final class Entered implements AutoCloseable {
        private final HandlerGuard g;
        private final boolean admitted;
        private final dev.tether.Scope scope;

        private Entered(HandlerGuard g, boolean admitted, dev.tether.Scope scope) {
            this.g = g;
            this.admitted = admitted;
            this.scope = scope;
        }

        /** Whether the handler may run: false if the call ended (early) before it was entered. */
        public boolean admitted() {
            return admitted;
        }

        /** Restores the thread's previous context and clears an interrupt this call delivered. */
        @Override
        public void close() {
            try {
                scope.close();
            } finally {
                g.disarm();
                if (guard == g) {
                    guard = null;
                }
            }
        }
    }

    /**
     * The response is complete: ends the call and cancels its context with
     * {@link RequestEndedException#responseCompleted()}. Returns false, changing nothing, if the call had ended
     * already (early, or by {@link #fail}).
     */
    public boolean complete() {
        if (!STATE.compareAndSet(this, HANDLING, COMPLETED)) {
            return false;
        }
        finish(RequestEndedException.responseCompleted());
        return true;
    }

    /**
     * The handler threw: ends the call, records the exception, and cancels the context with it as the cause.
     * Returns true if the integration should answer (see {@link #httpStatus(Throwable)}); false if the call had
     * ended already or its context is done (the {@link #onEndedEarly} action answers), in which case the exception
     * is only a consequence (of a refused write, of the interrupt) and is dropped.
     */
    public boolean fail(Throwable failure) {
        Objects.requireNonNull(failure, "failure");
        if (registration != null && cancellable.isDone()) {
            // The context ended first and its onDone action is about to end the call early: the handler's
            // exception is a consequence (a refused write, the interrupt), and the early answer says why.
            return false;
        }
        if (!STATE.compareAndSet(this, HANDLING, COMPLETED)) {
            return false;
        }
        this.failure = failure;
        finish(failure);
        return true;
    }

    /** Cancels the context on the client's behalf, e.g. {@link RequestEndedException#clientDisconnected}. */
    public void cancel(Throwable cause) {
        cancellable.cancel(Objects.requireNonNull(cause, "cause"));
    }

    private void finish(Throwable cause) {
        endNanos = cancellable.timeSource().nanoTime();
        Registration r = registration;
        if (r != null) {
            r.stop(); // no onDone thread for a call that ended normally
        }
        cancellable.cancel(cause);
    }

    /** The context the handler runs under: the budget's deadline, the origin bound, cancelled when the call ends. */
    public Context context() {
        return context;
    }

    /** What the policy made of the request's headers. */
    public InboundBudget.Result budget() {
        return budget;
    }

    /** Who set the deadline: the caller's origin, or this server's {@code self} when its own policy did. */
    public DeadlineOrigin origin() {
        return origin;
    }

    /** This server's service and the request's operation. */
    public DeadlineOrigin self() {
        return self;
    }

    /** Whether the call is over, by any of the three ways. */
    public boolean isEnded() {
        return state != HANDLING;
    }

    /** Whether the context ended before the call completed. */
    public boolean isEndedEarly() {
        return state == ENDED_EARLY;
    }

    /** Whether ending early interrupted the handler's thread. */
    public boolean interruptedHandler() {
        return interrupted;
    }

    /** The handler's exception given to {@link #fail}, else null. */
    public @Nullable Throwable failure() {
        return failure;
    }

    /** Time from start to the end of the call, or to now while it runs, on the context's time source. */
    public Duration elapsed() {
        long end = endNanos;
        return Duration.ofNanos((end == NOT_ENDED ? cancellable.timeSource().nanoTime() : end) - startNanos);
    }

    /**
     * What to tell the client when the call ended early, else null: the kind, and a reason that names the budget,
     * its origin and this server ({@code budget 230ms from gateway/POST:/checkout ran out at orders/GET:/stock}),
     * or the cause (client disconnected, server stopping).
     */
    public @Nullable EndedEarly endedEarly() {
        if (state != ENDED_EARLY) {
            return null;
        }
        ContextDoneException err = Objects.requireNonNull(cancellable.err());
        if (err instanceof DeadlineExceededException && err.getCause() == null) {
            String what = budget.belowMinimum()
                    ? "budget " + millis(budget.budget()) + " from " + origin + " is below the minimum at " + self
                    : "budget " + millis(budget.budget()) + " from " + origin + " ran out at " + self;
            return new EndedEarly(EndedEarly.Kind.DEADLINE_EXCEEDED, what);
        }
        return EndedEarly.of(err);
    }

    /**
     * The HTTP status for a handler's exception: 504 if it says a deadline passed (a {@link DeadlineExceededException}
     * or a peer's {@code deadline-exceeded}, among its first causes), 502 if a peer ended the call cancelled, else
     * 500.
     */
    public static int httpStatus(Throwable failure) {
        EndedEarly ended = endedBy(failure);
        if (ended == null) {
            return 500;
        }
        if (ended.kind() == EndedEarly.Kind.DEADLINE_EXCEEDED) {
            return 504;
        }
        Throwable t = failure;
        for (int depth = 0; t != null && depth < MAX_CAUSES; depth++, t = t.getCause()) {
            if (t instanceof PeerEndedException) {
                return 502;
            }
        }
        return 500;
    }

    /**
     * What a handler's exception says about an early end, for {@value WireHeaders#ENDED}: a peer's
     * {@link PeerEndedException} (its message, so the chain reads across services) or a context's error, found
     * among the exception and its first causes; null for any other failure, which gets no header.
     */
    public static @Nullable EndedEarly endedBy(Throwable failure) {
        Objects.requireNonNull(failure, "failure");
        Throwable t = failure;
        for (int depth = 0; t != null && depth < MAX_CAUSES; depth++, t = t.getCause()) {
            if (t instanceof PeerEndedException peer) {
                return new EndedEarly(peer.ended().kind(), peer.getMessage());
            }
            if (t instanceof ContextDoneException done) {
                return EndedEarly.of(done);
            }
        }
        return null;
    }

    /** Whole milliseconds, rounded down as budgets are; microseconds below one millisecond. */
    static String millis(Duration d) {
        long millis = d.toMillis();
        return millis == 0 && !d.isZero() ? d.toNanos() / 1_000L + "us" : millis + "ms";
    }

    @Override
    public String toString() {
        String s = switch (state) {
            case HANDLING -> "handling";
            case COMPLETED -> failure == null ? "completed" : "failed: " + failure.getClass().getSimpleName();
            default -> "ended early: " + endedEarly();
        };
        return "InboundCall[" + self + ", " + budget + ", origin " + origin + ", " + s + "]";
    }
}
