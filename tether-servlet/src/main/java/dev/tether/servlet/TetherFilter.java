package dev.tether.servlet;

import dev.tether.Context;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.EndedEarly;
import dev.tether.wire.InboundBudget;
import dev.tether.wire.InboundCall;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Objects;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * A Jakarta Servlet 6 filter that runs the rest of the chain under a Tether context made from the request's budget
 * (docs/wire.md), and ends that context when the response completes, when the budget runs out, or when a write
 * finds the client gone. Works on any Servlet 6 container: Tomcat 11, Jetty's ee10/ee11 environments, Spring MVC.
 *
 * {@snippet :
 * context.addFilter("tether", TetherFilter.builder("orders")
 *         .policy(InboundBudget.builder().maxBudget(Duration.ofSeconds(5)).reserve(Duration.ofMillis(20)).build())
 *         .build()).addMappingForUrlPatterns(null, false, "/*");
 * }
 *
 * <p>From {@code web.xml}, or anywhere a container instantiates the class itself, use the public constructor and
 * init parameters: {@code service} (required), and ISO-8601 durations {@code maxBudget}, {@code defaultBudget},
 * {@code reserve}, {@code minBudget} (e.g. {@code PT5S}). Register it first in the chain, for the REQUEST dispatch.
 *
 * <h2>What the chain gets</h2>
 * {@link Context#current()} is the request's context while the chain runs on the request's thread; its deadline is
 * the caller's budget (capped by the policy's maximum, less its reserve) and {@link DeadlineOrigin#from} names who
 * set it. {@link #call(ServletRequest)} gives the whole {@link InboundCall}. Writes through the response's stream
 * or writer are refused once the context has ended (the stream throws an {@code IOException} whose cause is the
 * context's error; the writer, which swallows errors, reports {@code checkError()}), so a streaming servlet stops.
 *
 * <h2>Runtime protection</h2>
 * <ul>
 *   <li>When the budget runs out before the servlet has committed a response, the client gets a 504 with
 *       {@code tether-ended} at once, written from a virtual thread with a Content-Length so the container sends
 *       it whole without waiting for the stuck request thread; that thread is interrupted, and whatever it writes
 *       later is refused. A committed response cannot become a 504: the filter throws when the chain returns, so
 *       the container aborts the response instead of ending a cut body cleanly.</li>
 *   <li>An exception from the chain becomes a 500 (504 or 502 when it says a deadline passed or a call was
 *       cancelled downstream, with {@code tether-ended} carrying the reason chain); the exception is the context's
 *       cause and goes to the log; the client never sees a stack trace.</li>
 *   <li>A servlet that goes asynchronous ({@code startAsync}) keeps its context until the async cycle completes;
 *       {@code AsyncListener.onError} (which containers call when the client resets an HTTP/2 stream or the
 *       connection fails) cancels it as a client disconnect.</li>
 * </ul>
 * The Servlet API offers a synchronous servlet no signal of a client that disconnects: it is found at the first
 * failing write. On Jetty, put tether-jetty's {@code TetherHandler} in front of the servlet context for HTTP/2
 * resets to reach the context at once; this filter then sees the request's call already made and steps aside.
 */
public final class TetherFilter implements Filter {

    private static final String CALL_ATTRIBUTE = InboundCall.class.getName();

    // Set by the builder, or by init() for container-made instances; read by request threads after the container
    // has published the initialised filter.
    private volatile @Nullable Settings settings;

    /**
     * For containers that instantiate filters themselves; the settings come from init parameters. Code should use
     * {@link #builder(String)}.
     */
    public TetherFilter() {
    }

    private TetherFilter(Settings settings) {
        this.settings = settings;
    }

    /**
     * A builder for a server that calls itself {@code service} in deadline origins and reasons.
     *
     * @throws IllegalArgumentException if service is not a valid {@link DeadlineOrigin} service name
     */
    public static Builder builder(String service) {
        return new Builder(new DeadlineOrigin(Objects.requireNonNull(service, "service"), "").service());
    }

    /** The call a request runs under, once this filter has seen it; null before or without it. */
    public static @Nullable InboundCall call(ServletRequest request) {
        return request.getAttribute(CALL_ATTRIBUTE) instanceof InboundCall call ? call : null;
    }

    /**
     * Reads the init parameters when the container made this filter; a built filter keeps its settings.
     *
     * @throws ServletException naming the parameter that is missing or malformed
     */
    @Override
    public void init(FilterConfig config) throws ServletException {
        if (settings != null) {
            return;
        }
        String service = config.getInitParameter("service");
        if (service == null || service.isBlank()) {
            throw new ServletException("TetherFilter init parameter 'service' is required");
        }
        try {
            InboundBudget.Builder policy = InboundBudget.builder();
            Duration max = duration(config, "maxBudget");
            if (max != null) {
                policy.maxBudget(max);
            }
            Duration dflt = duration(config, "defaultBudget");
            if (dflt != null) {
                policy.defaultBudget(dflt);
            }
            Duration reserve = duration(config, "reserve");
            if (reserve != null) {
                policy.reserve(reserve);
            }
            Duration min = duration(config, "minBudget");
            if (min != null) {
                policy.minBudget(min);
            }
            settings = builder(service.strip()).policy(policy.build()).settings();
        } catch (IllegalArgumentException e) {
            throw new ServletException("TetherFilter: " + e.getMessage(), e);
        }
    }

    private static @Nullable Duration duration(FilterConfig config, String name) {
        String value = config.getInitParameter(name);
        if (value == null) {
            return null;
        }
        try {
            return Duration.parse(value.strip());
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(
                    "init parameter '" + name + "': " + value + " (expected: an ISO-8601 duration such as PT5S)", e);
        }
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        Settings s = settings;
        if (s == null) {
            throw new ServletException("TetherFilter used before init()");
        }
        if (!(request instanceof HttpServletRequest http) || !(response instanceof HttpServletResponse httpResponse)
                || request.getAttribute(CALL_ATTRIBUTE) != null) {
            chain.doFilter(request, response); // not HTTP, or a request already under a call (a forward, TetherHandler)
            return;
        }
        InboundBudget.Result budget = s.policy.read(http::getHeader);
        String operation = http.getMethod() + ":" + http.getRequestURI();
        InboundCall call = InboundCall.start(s.parent, budget, DeadlineOrigin.sanitized(s.service, operation));
        request.setAttribute(CALL_ATTRIBUTE, call);
        ServletExchange exchange = new ServletExchange(call, http, httpResponse, s.fallback, s.observer);
        call.onEndedEarly(exchange::endedEarly);
        exchange.run(chain);
    }

    @Override
    public String toString() {
        Settings s = settings;
        return s == null ? "TetherFilter[not initialised]" : "TetherFilter[" + s.service + ", " + s.policy + "]";
    }

    /** What a filter was built or initialised with; parent is the server's context, held for the filter's life. */
    @SuppressWarnings("CTX007")
    record Settings(String service, InboundBudget policy, Context parent, Fallback fallback,
            @Nullable Consumer<? super InboundCall> observer) {
    }

    /**
     * Writes the answer for a request whose context ended before its servlet answered: the budget ran out, or the
     * server's context was cancelled. Runs on its own virtual thread; the response is reset and not committed. Set
     * a Content-Length and write that many bytes, so that the container sends the answer whole at once even while
     * the request's thread is stuck.
     */
    @FunctionalInterface
    public interface Fallback {

        /** Answers the request; {@code ended} says why (put it in {@code tether-ended} to keep the cause chain). */
        void answer(HttpServletRequest request, HttpServletResponse response, EndedEarly ended) throws IOException;

        /** The default: 504 (or 503 if cancelled) with {@code tether-ended} and a one-line text body. */
        static Fallback gatewayTimeout() {
            return (request, response, ended) -> ServletExchange.answer(response,
                    ended.kind() == EndedEarly.Kind.DEADLINE_EXCEEDED ? 504 : 503, ended);
        }
    }

    /** Builds a {@link TetherFilter}. */
    public static final class Builder {
        private final String service;
        private InboundBudget policy = InboundBudget.builder().build();
        @SuppressWarnings("CTX007") // configuration, handed to the filter
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

        /** The server's context, parent of every request's: cancelling it ends every request with a 503. */
        public Builder parent(Context parent) {
            this.parent = Objects.requireNonNull(parent, "parent");
            return this;
        }

        /** What to answer when the budget runs out first. Default {@link Fallback#gatewayTimeout()}. */
        public Builder fallback(Fallback fallback) {
            this.fallback = Objects.requireNonNull(fallback, "fallback");
            return this;
        }

        /** Told of every call when it ends, on the thread that ended it. Must be quick; exceptions are logged. */
        public Builder observer(Consumer<? super InboundCall> observer) {
            this.observer = Objects.requireNonNull(observer, "observer");
            return this;
        }

        /** The filter. */
        public TetherFilter build() {
            return new TetherFilter(settings());
        }

        private Settings settings() {
            return new Settings(service, policy, parent, fallback, observer);
        }
    }
}
