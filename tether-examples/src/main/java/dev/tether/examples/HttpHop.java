package dev.tether.examples;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import dev.tether.Context;
import dev.tether.jetty.TetherHandler;
import dev.tether.wire.InboundBudget;
import dev.tether.wire.InboundCall;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
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
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.util.thread.Invocable;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.jspecify.annotations.Nullable;

/**
 * One HTTP hop of the chain demo: Jetty 12 on a free port of 127.0.0.1, speaking HTTP/1.1 and h2c (HTTP/2 without
 * TLS, by upgrade or prior knowledge: the protocol on which a client's stream reset reaches the server at once),
 * its handler behind tether-jetty's {@link TetherHandler}. Each request gets a server span, started under the
 * request's context so that TetherSpanProcessor binds the two, and ended when the exchange completes (after
 * TetherHandler has ended the context, so a handler that gave up is recorded). Every completed call is queued as a
 * {@link HopRecord}.
 */
final class HttpHop implements AutoCloseable {

    /** A blocking handler for a request with an {@link Order}; runs under the request's context. */
    @FunctionalInterface
    interface Work {
        Answer handle(Order order) throws Exception;
    }

    /** A text answer. */
    record Answer(int status, String body) {}

    private final Server server;
    private final ServerConnector connector;
    private final BlockingQueue<HopRecord> calls = new LinkedBlockingQueue<>();
    // Each live call's note of when its context ended: made by the handler, written by the context's onDone action
    // (which may run after the observer), taken by the observer into the call's record.
    private final Map<InboundCall, AtomicLong> contextEnds = new ConcurrentHashMap<>();

    private HttpHop(String service, Context parent, InboundBudget policy, Tracer tracer, Work work) throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool(32, 4);
        threads.setName(service);
        server = new Server(threads);
        HttpConfiguration config = new HttpConfiguration();
        config.setSendServerVersion(false);
        connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(config),
                new HTTP2CServerConnectionFactory(config));
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        Handler application = new Handler.Abstract(Invocable.InvocationType.BLOCKING) {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                serve(service, tracer, work, request, response, callback);
                return true;
            }
        };
        server.setHandler(TetherHandler.builder(service).policy(policy).parent(parent)
                .observer(call -> calls.add(HopRecord.of(call, ended(call))))
                .build(application));
        server.start();
    }

    /** Starts {@code service} on a free loopback port; {@code parent} is the server's context, ended at shutdown. */
    static HttpHop start(String service, Context parent, InboundBudget policy, Tracer tracer, Work work)
            throws Exception {
        return new HttpHop(service, parent, policy, tracer, work);
    }

    private void serve(String service, Tracer tracer, Work work, Request request, Response response,
            Callback callback) throws Exception {
        InboundCall call = Objects.requireNonNull(TetherHandler.call(request), "TetherHandler's call");
        AtomicLong ended = new AtomicLong(HopRecord.NOT_ENDED);
        contextEnds.put(call, ended);
        Context.current().onDone(() -> ended.set(System.nanoTime()), Runnable::run);
        Span span = tracer.spanBuilder(service + " " + request.getMethod() + " " + Request.getPathInContext(request))
                .setSpanKind(SpanKind.SERVER)
                .setAttribute("http.request.method", request.getMethod())
                .setAttribute("url.path", Request.getPathInContext(request))
                .startSpan();
        Request.addCompletionListener(request, failure -> span.end());
        Answer answer;
        Scope scope = span.makeCurrent();
        try {
            Order order = null;
            String refused = null;
            try {
                Fields query = Request.extractQueryParameters(request);
                order = Order.fromQuery(query.getValue("sku"), query.getValue("delay"));
            } catch (IllegalArgumentException e) {
                refused = e.getMessage();
            }
            answer = order == null ? new Answer(400, String.valueOf(refused)) : work.handle(order);
        } finally {
            scope.close();
        }
        response.setStatus(answer.status());
        response.getHeaders().put("content-type", "text/plain; charset=utf-8");
        Content.Sink.write(response, true, answer.body() + "\n", callback);
    }

    private LongSupplier ended(InboundCall call) {
        AtomicLong ended = contextEnds.remove(call);
        return ended == null ? () -> HopRecord.NOT_ENDED : ended::get;
    }

    URI uri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + connector.getLocalPort() + pathAndQuery);
    }

    int port() {
        return connector.getLocalPort();
    }

    /** The next call to complete, waiting at most {@code bound}; null if none completed in time. */
    @Nullable HopRecord nextCall(Duration bound) throws InterruptedException {
        return calls.poll(bound.toNanos(), NANOSECONDS);
    }

    /** Forgets the calls completed so far. */
    void forget() {
        calls.clear();
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            throw new IllegalStateException("stopping " + server + ": " + e, e);
        }
    }
}
