package dev.tether.jetty;

import dev.tether.Context;
import dev.tether.wire.InboundBudget;
import dev.tether.wire.InboundCall;
import java.net.URI;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * One service on loopback, for tests and demos: Jetty on a free port of 127.0.0.1 speaking HTTP/1.1 and h2c (HTTP/2
 * without TLS, by prior knowledge or upgrade), its handler behind a {@link TetherHandler}. Every completed call is
 * queued in {@link #calls()}: budget received, origin, how it ended, time spent.
 *
 * {@snippet :
 * try (Hop orders = Hop.builder("orders").work((call, request) -> "ok").start()) {
 *     HttpClient.newHttpClient().send(HttpRequest.newBuilder(orders.uri("/stock")).build(), ofString());
 *     InboundCall call = orders.nextCall();
 * }
 * }
 */
final class Hop implements AutoCloseable {

    /** A blocking handler: returns the body of a 200 text response, or throws. Runs under the call's context. */
    @FunctionalInterface
    interface Work {
        String handle(InboundCall call, Request request) throws Exception;
    }

    private final String service;
    private final Server server;
    private final ServerConnector connector;
    private final BlockingQueue<InboundCall> calls = new LinkedBlockingQueue<>();

    private Hop(Builder b) throws Exception {
        this.service = b.service;
        QueuedThreadPool threads = new QueuedThreadPool(32, 4);
        threads.setName("hop-" + b.service);
        server = new Server(threads);
        HttpConfiguration config = new HttpConfiguration();
        config.setSendServerVersion(false);
        connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(config),
                new HTTP2CServerConnectionFactory(config));
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        TetherHandler.Builder tether = TetherHandler.builder(b.service).policy(b.policy).parent(b.parent)
                .observer(calls::add);
        if (b.fallback != null) {
            tether.fallback(b.fallback);
        }
        server.setHandler(tether.build(Objects.requireNonNull(b.handler, "handler or work")));
        server.start();
    }

    static Builder builder(String service) {
        return new Builder(service);
    }

    String service() {
        return service;
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + connector.getLocalPort() + path);
    }

    int port() {
        return connector.getLocalPort();
    }

    /**
     * A work that calls the next hop under the request's context and answers with this hop's name and what the
     * next hop answered: the body of a chain demo's middle hops. A downstream early end escapes as a
     * {@link dev.tether.wire.PeerEndedException}, which {@link TetherHandler} turns into a 504 carrying the chain.
     */
    static Work forward(dev.tether.httpclient.TetherHttpClient next, java.util.function.Function<Request, URI> uri) {
        return (call, request) -> {
            java.net.http.HttpResponse<String> answer = next.send(java.net.http.HttpRequest.newBuilder(
                    uri.apply(request)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            return call.self().service() + " -> " + answer.body();
        };
    }

    /**
     * One line per completed call, for logs and demos: service, budget received and where it came from, the
     * deadline's origin, how it ended, time spent.
     * {@snippet :
     * orders  budget 1930ms (offered 1940ms via tether-budget)  origin gateway/GET:/checkout  completed  12.4 ms
     * }
     */
    static String report(InboundCall call) {
        InboundBudget.Result budget = call.budget();
        String received = budget.offered() == null ? "server default"
                : "offered " + millis(budget.offered()) + " via " + budget.source().header()
                        + (budget.capped() ? ", capped" : "");
        String outcome = call.isEndedEarly() ? "ended early: " + call.endedEarly()
                : call.failure() != null ? "failed: " + call.failure()
                : "completed";
        return String.format("%-8s budget %s (%s)  origin %s  %s  %.1f ms", call.self().service(),
                millis(budget.budget()), received, call.origin(), outcome, call.elapsed().toNanos() / 1e6);
    }

    private static String millis(java.time.Duration d) {
        return d.toMillis() + "ms";
    }

    /** Calls completed so far, in order of completion. */
    BlockingQueue<InboundCall> calls() {
        return calls;
    }

    /** The next completed call, waiting at most 10 s for it. */
    InboundCall nextCall() throws InterruptedException {
        InboundCall call = calls.poll(10, TimeUnit.SECONDS);
        if (call == null) {
            throw new AssertionError(service + ": no call completed within 10 s");
        }
        return call;
    }

    /** The next completed call for {@code operation} (such as {@code "GET:/stock"}), skipping others. */
    InboundCall nextCall(String operation) throws InterruptedException {
        while (true) {
            InboundCall call = nextCall();
            if (call.self().operation().equals(operation)) {
                return call;
            }
        }
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    static final class Builder {
        private final String service;
        private InboundBudget policy = InboundBudget.builder().build();
        private Context parent = Context.background();
        private Handler handler;
        private TetherHandler.Fallback fallback;

        private Builder(String service) {
            this.service = service;
        }

        Builder policy(InboundBudget policy) {
            this.policy = policy;
            return this;
        }

        Builder parent(Context parent) {
            this.parent = parent;
            return this;
        }

        Builder fallback(TetherHandler.Fallback fallback) {
            this.fallback = fallback;
            return this;
        }

        /** A raw Jetty handler. */
        Builder handler(Handler handler) {
            this.handler = handler;
            return this;
        }

        /** A blocking handler returning a text body. */
        Builder work(Work work) {
            this.handler = new Handler.Abstract(org.eclipse.jetty.util.thread.Invocable.InvocationType.BLOCKING) {
                @Override
                public boolean handle(Request request, Response response, Callback callback) throws Exception {
                    String body = work.handle(Objects.requireNonNull(TetherHandler.call(request)), request);
                    response.getHeaders().put("content-type", "text/plain; charset=utf-8");
                    Content.Sink.write(response, true, body, callback);
                    return true;
                }
            };
            return this;
        }

        Hop start() throws Exception {
            return new Hop(this);
        }
    }
}
