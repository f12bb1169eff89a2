package dev.tether.httpclient;

import dev.tether.Blocking;
import dev.tether.Context;
import dev.tether.ContextDoneException;
import dev.tether.Registration;
import dev.tether.wire.EndedEarly;
import dev.tether.wire.OutboundBudget;
import dev.tether.wire.PeerEndedException;
import dev.tether.wire.WireHeaders;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.jspecify.annotations.Nullable;

/**
 * Calls through a JDK {@link HttpClient} under a Tether context: each call carries the caller's remaining budget
 * (less a per-hop reserve) and the deadline's origin, ends the moment the caller's context does, and turns a
 * downstream early end into the caller's exception. Thread-safe; share one per downstream service.
 *
 * {@snippet :
 * TetherHttpClient orders = TetherHttpClient.builder(HttpClient.newHttpClient())
 *         .budget(OutboundBudget.builder().perHopReserve(Duration.ofMillis(10)).minBudget(Duration.ofMillis(5)).build())
 *         .peer("orders")
 *         .build();
 * HttpResponse<String> stock = orders.send(HttpRequest.newBuilder(uri).build(), BodyHandlers.ofString());
 * // under Context.current(): sends tether-budget, grpc-timeout and tether-deadline-origin
 * }
 *
 * <h2>What a call does</h2>
 * <ol>
 *   <li>Plans with the {@link OutboundBudget}: a done context, or a budget below the minimum after the reserve,
 *       fails the call at once without sending anything (the context's err, or a
 *       {@link dev.tether.DeadlineExceededException} saying so).</li>
 *   <li>Sends the request with {@code tether-budget}, {@code grpc-timeout} and {@code tether-deadline-origin} set
 *       (replacing any the request had).</li>
 *   <li>While the exchange runs, an {@link Context#onDone} action aborts it the moment the context ends: the JDK
 *       client closes the HTTP/1.1 connection or resets the HTTP/2 stream, which the next hop hears as a client
 *       disconnect. The call then throws the context's {@link Context#err()} (its cause is the context's cause).
 *       Interrupting a thread blocked in {@link #send} aborts the exchange too.</li>
 *   <li>A 5xx response carrying {@value WireHeaders#ENDED} becomes a {@link PeerEndedException} naming the peer
 *       and its reason, so the cause chain reads across services. Other responses, including a fallback's 2xx that
 *       says it ended early ({@link #endedEarly(HttpResponse)} tells), are returned as they are.</li>
 * </ol>
 */
public final class TetherHttpClient {

    private final HttpClient client;
    private final OutboundBudget budget;
    private final @Nullable String peer;

    private TetherHttpClient(Builder b) {
        this.client = b.client;
        this.budget = b.budget;
        this.peer = b.peer;
    }

    /** A builder for calls through {@code client}. */
    public static Builder builder(HttpClient client) {
        return new Builder(Objects.requireNonNull(client, "client"));
    }

    /** The JDK client calls go through. */
    public HttpClient client() {
        return client;
    }

    /** {@link #send(Context, HttpRequest, HttpResponse.BodyHandler)} under {@link Context#current()}. */
    public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) throws IOException {
        return send(Context.current(), request, handler);
    }

    /**
     * Sends {@code request} under {@code ctx} and waits for the response.
     *
     * @throws ContextDoneException the context's err if it is done before or during the call (the exchange is
     *     aborted), or a {@link dev.tether.DeadlineExceededException} if the budget is below the minimum (nothing
     *     is sent)
     * @throws PeerEndedException if the peer answered 5xx with {@value WireHeaders#ENDED}
     * @throws IOException if the exchange failed
     * @throws CancellationException (not a ContextDoneException) if the thread was interrupted otherwise; its
     *     cause is the {@link InterruptedException}, the exchange is aborted and the interrupt flag stays set
     */
    public <T> HttpResponse<T> send(Context ctx, HttpRequest request, HttpResponse.BodyHandler<T> handler)
            throws IOException {
        Objects.requireNonNull(ctx, "ctx");
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(handler, "handler");
        OutboundBudget.Plan plan = budget.plan(ctx);
        ContextDoneException failure = plan.failure();
        if (failure != null) {
            throw failure;
        }
        CompletableFuture<HttpResponse<T>> exchange = client.sendAsync(withHeaders(request, plan), handler);
        HttpResponse<T> response;
        try {
            // Wakes the moment ctx is done (or the thread is interrupted) and throws; the finally aborts.
            response = Blocking.await(ctx, exchange);
        } catch (ExecutionException e) {
            throw rethrow(unwrap(e.getCause()));
        } finally {
            exchange.cancel(true); // nothing if it completed; else the JDK client closes the connection or resets the stream
        }
        PeerEndedException ended = peerEnded(request.uri(), response);
        if (ended != null) {
            throw ended;
        }
        return response;
    }

    /**
     * Sends {@code request} under {@code ctx}. The future completes with the response, or exceptionally with what
     * {@link #send(Context, HttpRequest, HttpResponse.BodyHandler)} would throw; if the context is done first or
     * the planned budget is too small it is already failed. Cancelling it aborts the exchange.
     *
     * <p>A context's err is a {@link CancellationException}, so a future failed with it reports
     * {@code isCancelled()}, and {@code get()} and {@code join()} throw a CancellationException whose cause is the
     * err; {@code whenComplete} and {@code handle} see the err itself.
     */
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(Context ctx, HttpRequest request,
            HttpResponse.BodyHandler<T> handler) {
        Objects.requireNonNull(ctx, "ctx");
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(handler, "handler");
        OutboundBudget.Plan plan = budget.plan(ctx);
        ContextDoneException failure = plan.failure();
        if (failure != null) {
            return CompletableFuture.failedFuture(failure);
        }
        CompletableFuture<HttpResponse<T>> exchange = client.sendAsync(withHeaders(request, plan), handler);
        CompletableFuture<HttpResponse<T>> result = new CompletableFuture<>();
        // Ends the exchange with the context. On a new virtual thread: never on the canceller's stack.
        Registration watch = ctx.onDone(() -> {
            // The err first: cancelling completes the exchange at once, with the JDK's own CancellationException.
            result.completeExceptionally(Objects.requireNonNull(ctx.err()));
            exchange.cancel(true);
        });
        exchange.whenComplete((response, error) -> {
            watch.stop();
            if (error != null) {
                result.completeExceptionally(unwrap(error));
                return;
            }
            PeerEndedException ended = peerEnded(request.uri(), response);
            if (ended != null) {
                result.completeExceptionally(ended);
            } else {
                result.complete(response);
            }
        });
        result.whenComplete((response, error) -> {
            if (result.isCancelled()) {
                exchange.cancel(true);
            }
        });
        return result;
    }

    private static HttpRequest withHeaders(HttpRequest request, OutboundBudget.Plan plan) {
        if (plan.headers().isEmpty()) {
            return request; // no deadline: the request goes as it is, the next hop applies its own default
        }
        HttpRequest.Builder outgoing = HttpRequest.newBuilder(request, (name, value) -> !isBudgetHeader(name));
        plan.headers().forEach(outgoing::setHeader);
        return outgoing.build();
    }

    /** The headers a plan with a budget owns: the request's own values for them are dropped, not forwarded. */
    private static boolean isBudgetHeader(String name) {
        return name.equalsIgnoreCase(WireHeaders.BUDGET) || name.equalsIgnoreCase(WireHeaders.GRPC_TIMEOUT)
                || name.equalsIgnoreCase(WireHeaders.ORIGIN);
    }

    /**
     * What a response says about ending early, from its {@value WireHeaders#ENDED} header; null if it has none or
     * the value does not follow the grammar (a peer's malformed value is ignored, never echoed).
     */
    public static @Nullable EndedEarly endedEarly(HttpResponse<?> response) {
        return response.headers().firstValue(WireHeaders.ENDED).map(value -> {
            try {
                return EndedEarly.parse(value);
            } catch (IllegalArgumentException e) {
                return null;
            }
        }).orElse(null);
    }

    private @Nullable PeerEndedException peerEnded(URI uri, HttpResponse<?> response) {
        if (response.statusCode() < 500) {
            return null;
        }
        EndedEarly ended = endedEarly(response);
        if (ended == null) {
            return null;
        }
        String name = peer != null ? peer : uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort());
        return new PeerEndedException(name, ended, null);
    }

    private static Throwable unwrap(Throwable error) {
        return error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    }

    private static IOException rethrow(Throwable cause) throws IOException {
        if (cause instanceof IOException io) {
            throw io;
        }
        if (cause instanceof RuntimeException re) {
            throw re;
        }
        if (cause instanceof Error e) {
            throw e;
        }
        throw new IOException(cause);
    }

    @Override
    public String toString() {
        return "TetherHttpClient[" + (peer == null ? "" : peer + ", ") + budget + "]";
    }

    /** Builds a {@link TetherHttpClient}. */
    public static final class Builder {
        private final HttpClient client;
        private OutboundBudget budget = OutboundBudget.builder().build();
        private @Nullable String peer;

        private Builder(HttpClient client) {
            this.client = client;
        }

        /** What to send and when to fail fast. Default: no reserve, no minimum, grpc-timeout sent. */
        public Builder budget(OutboundBudget budget) {
            this.budget = Objects.requireNonNull(budget, "budget");
            return this;
        }

        /** The name a {@link PeerEndedException} gives the peer. Default: the request's host and port. */
        public Builder peer(String peer) {
            this.peer = EndedEarly.sanitize(Objects.requireNonNull(peer, "peer"));
            return this;
        }

        /** The client. */
        public TetherHttpClient build() {
            return new TetherHttpClient(this);
        }
    }
}
