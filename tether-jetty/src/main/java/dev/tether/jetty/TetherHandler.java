package dev.tether.jetty;

import dev.tether.Context;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.EndedEarly;
import dev.tether.wire.InboundBudget;
import dev.tether.wire.InboundCall;
import java.util.Objects;
import java.util.function.Consumer;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.jspecify.annotations.Nullable;

/**
 * A Jetty 12 core handler that runs the handler it wraps under a Tether context made from the request's budget
 * (docs/wire.md), and ends that context with a clear cause when the client disconnects, when the budget runs out,
 * or when the response completes.
 *
 * {@snippet :
 * Server server = new Server();
 * server.setHandler(TetherHandler.builder("orders")
 *         .policy(InboundBudget.builder().maxBudget(Duration.ofSeconds(5)).reserve(Duration.ofMillis(20)).build())
 *         .build(new OrdersHandler()));   // inside: Context.current() is the request's context
 * }
 *
 * <h2>What the wrapped handler gets</h2>
 * <ul>
 *   <li>{@link Context#current()} is the request's context inside {@code handle}: its deadline is the budget the
 *       caller sent (capped by the policy's maximum, less its reserve) and {@link DeadlineOrigin#from} names who set
 *       it. {@link #call(Request)} gives the whole {@link InboundCall}, e.g. to log the budget received.</li>
 *   <li>Its response refuses writes once the context has ended (the write's callback fails with the context's
 *       error), so a streaming handler (chunked, server-sent events) stops at the next write.</li>
 * </ul>
 *
 * <h2>Runtime protection</h2>
 * <ul>
 *   <li>When the budget runs out before the handler has answered, the client gets a 504 with {@code tether-ended}
 *       at once (or the {@linkplain Builder#fallback fallback}'s answer), however long the handler stays stuck;
 *       the handler's thread is interrupted if it is still inside {@code handle}, and what it does later with the
 *       response is ignored. A response already committed cannot become a 504: it is aborted (HTTP/2 resets the
 *       stream, HTTP/1.1 closes the connection), so a cut body is never mistaken for a whole one.</li>
 *   <li>An exception thrown by {@code handle} or given to its callback becomes a 500 (504 when it says a deadline
 *       passed here or downstream, with {@code tether-ended} carrying the downstream reason chain; 502 when a
 *       downstream call was cancelled). The exception is the context's cause and goes to the server's log; the
 *       client never sees a stack trace.</li>
 *   <li>A client disconnect cancels the context with {@link dev.tether.wire.RequestEndedException#clientDisconnected}:
 *       over HTTP/2 as soon as the client resets the stream (Jetty's request failure listener); over HTTP/1.1 only
 *       when a write fails, because Jetty does not read the connection while a handler runs (see the module
 *       README).</li>
 * </ul>
 */
public final class TetherHandler extends Handler.Wrapper {

    private static final System.Logger LOG = System.getLogger(TetherHandler.class.getName());
    private static final String CALL_ATTRIBUTE = InboundCall.class.getName();

    private final String service;
    private final InboundBudget policy;
    @SuppressWarnings("CTX007") // the server's context: every request's parent, held for the server's life
    private final Context parent;
    private final Fallback fallback;
    private final @Nullable Consumer<? super InboundCall> observer;

    private TetherHandler(Builder b, Handler next) {
        super(next);
        this.service = b.service;
        this.policy = b.policy;
        this.parent = b.parent;
        this.fallback = b.fallback;
        this.observer = b.observer;
    }

    /**
     * A builder for a server that calls itself {@code service} in deadline origins and reasons.
     *
     * @throws IllegalArgumentException if service is not a valid {@link DeadlineOrigin} service name
     */
    public static Builder builder(String service) {
        return new Builder(new DeadlineOrigin(Objects.requireNonNull(service, "service"), "").service());
    }

    /** The call a request runs under, while this handler handles it; null for a request it did not see. */
    public static @Nullable InboundCall call(Request request) {
        return request.getAttribute(CALL_ATTRIBUTE) instanceof InboundCall call ? call : null;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        Handler next = getHandler();
        if (next == null) {
            return false;
        }
        InboundBudget.Result budget = policy.read(name -> request.getHeaders().get(name));
        if (!budget.notes().isEmpty() && LOG.isLoggable(System.Logger.Level.DEBUG)) {
            LOG.log(System.Logger.Level.DEBUG, "{0} {1}: {2}", request.getMethod(), request.getHttpURI().getPath(),
                    budget.notes());
        }
        String operation = request.getMethod() + ":" + Request.getPathInContext(request);
        InboundCall call = InboundCall.start(parent, budget, DeadlineOrigin.sanitized(service, operation));
        request.setAttribute(CALL_ATTRIBUTE, call);
        Exchange exchange = new Exchange(call, request, response, callback, fallback);
        Request.addCompletionListener(request, failure -> completed(call, failure));
        request.addFailureListener(exchange::transportFailed);
        call.onEndedEarly(exchange::endedEarly);

        boolean handled;
        try (InboundCall.Entered entered = call.enter()) {
            if (!entered.admitted()) {
                return true; // ended before it began (no budget left): the onEndedEarly action answers
            }
            handled = next.handle(request, exchange.response(), exchange.callback());
        } catch (Throwable failure) {
            exchange.handlerFailed(failure);
            return true;
        }
        if (!handled) {
            // Jetty answers 404 itself; unless the call ended early meanwhile, and then the early answer is ours.
            return !call.complete();
        }
        return true;
    }

    private void completed(InboundCall call, @Nullable Throwable failure) {
        // Whatever completed the exchange (the handler, an early answer, Jetty itself), the context ends with it.
        if (failure == null) {
            call.complete();
        } else if (!call.isEnded()) {
            call.fail(failure);
        }
        if (observer != null) {
            try {
                observer.accept(call);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "observer failed", e);
            }
        }
    }

    @Override
    public String toString() {
        return "TetherHandler[" + service + ", " + policy + "]";
    }

    /**
     * Writes the answer for a request whose context ended before its handler answered: the budget ran out, or the
     * server's context was cancelled. Runs on its own virtual thread, never on the stuck handler's; must complete
     * {@code callback}.
     */
    @FunctionalInterface
    public interface Fallback {

        /**
         * Answers the request; the response is not committed yet, and {@code ended} says why (put it in
         * {@code tether-ended} to keep the cause chain across services).
         */
        void answer(Request request, Response response, Callback callback, EndedEarly ended);

        /** The default: 504 (or 503 if cancelled) with {@code tether-ended} and a one-line text body. */
        static Fallback gatewayTimeout() {
            return Exchange::defaultAnswer;
        }
    }

    /** Builds a {@link TetherHandler}. */
    public static final class Builder {
        private final String service;
        private InboundBudget policy = InboundBudget.builder().build();
        @SuppressWarnings("CTX007") // configuration, handed to the handler
        private Context parent = Context.background();
        private Fallback fallback = Fallback.gatewayTimeout();
        private @Nullable Consumer<? super InboundCall> observer;

        private Builder(String service) {
            this.service = service;
        }

        /** How budgets are read, capped and reserved. Default: {@code InboundBudget.builder().build()} (30 s max). */
        public Builder policy(InboundBudget policy) {
            this.policy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /**
         * The server's context, parent of every request's: cancelling it (at shutdown) ends every request with a
         * 503. Default {@link Context#background()}.
         */
        public Builder parent(Context parent) {
            this.parent = Objects.requireNonNull(parent, "parent");
            return this;
        }

        /** What to answer when the budget runs out first. Default {@link Fallback#gatewayTimeout()}. */
        public Builder fallback(Fallback fallback) {
            this.fallback = Objects.requireNonNull(fallback, "fallback");
            return this;
        }

        /**
         * Told of every call when its exchange completes, on the thread that completed it: budget received, origin,
         * how it ended, time spent. Must be quick; its exceptions are logged and dropped.
         */
        public Builder observer(Consumer<? super InboundCall> observer) {
            this.observer = Objects.requireNonNull(observer, "observer");
            return this;
        }

        /** The handler, wrapping {@code next}. */
        public TetherHandler build(Handler next) {
            return new TetherHandler(this, Objects.requireNonNull(next, "next"));
        }
    }
}
