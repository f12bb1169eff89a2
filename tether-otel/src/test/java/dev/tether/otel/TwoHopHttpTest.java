package dev.tether.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.Blocking;
import dev.tether.Context;
import dev.tether.httpclient.TetherHttpClient;
import dev.tether.jetty.TetherHandler;
import dev.tether.spi.ContextObservers;
import dev.tether.wire.EndedEarly;
import dev.tether.wire.InboundBudget;
import dev.tether.wire.OutboundBudget;
import dev.tether.wire.WireHeaders;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Invocable;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A client calls hop 1 ({@code orders}: Jetty behind tether-jetty's {@link TetherHandler}), which calls hop 2
 * ({@code inventory}, the same) over HTTP through tether-httpclient's {@link TetherHttpClient}, which sends the rest
 * of its budget and the deadline's origin. Hop 2 takes longer than its budget. The traces show, in one trace, both
 * servers' spans with why their request ended: hop 2 ran out of the gateway's budget; hop 1 was cancelled by hop
 * 2's answer, and says so.
 *
 * <p>Each server has an outer handler that plays OpenTelemetry's HTTP server instrumentation: it extracts the W3C
 * trace context, starts the SERVER span, makes it current around the Tether handler, and ends it when the response
 * completes, closing the span's {@link SpanBinding} first. The binding is made by the application handler, the
 * place where both the span and the request's context are current. Hop 1's call carries the W3C trace context, and
 * TetherHttpClient turns hop 2's {@code tether-ended} answer into a {@code PeerEndedException}, which fails hop 1's
 * request and so becomes the cause of its context's end.
 *
 * <p>Real time on loopback: the budgets are generous (2 s at the gateway, 500 ms kept back per hop) so that hop 2's
 * end reaches hop 1 long before hop 1's own deadline, even on a loaded machine.
 */
@Timeout(60)
class TwoHopHttpTest {

    private static final String BINDING = SpanBinding.class.getName();
    private static final TextMapGetter<HttpFields> JETTY_HEADERS = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(HttpFields carrier) {
            return carrier.getFieldNamesCollection();
        }

        @Override
        public @Nullable String get(@Nullable HttpFields carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    };

    private final InMemorySpanExporter spans = InMemorySpanExporter.create();
    private final SdkTracerProvider tracerProvider = SdkTracerProvider.builder()
            .addSpanProcessor(TetherSpanProcessor.create())
            .addSpanProcessor(SimpleSpanProcessor.create(spans))
            .build();
    private final Tracer tracer = tracerProvider.get("two-hop-test");
    private final InMemoryMetricReader reader = InMemoryMetricReader.create();
    private final SdkMeterProvider meterProvider = SdkMeterProvider.builder().registerMetricReader(reader).build();
    private final TetherMetrics metrics = TetherMetrics.builder(meterProvider).build();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private ContextObservers.Installation bridge;
    private ContextObservers.Installation counting;
    private Server inventory;
    private Server orders;

    @BeforeEach
    void start() throws Exception {
        bridge = OtelContextBridge.install();
        counting = metrics.install();
        InboundBudget policy = InboundBudget.builder()
                .maxBudget(Duration.ofSeconds(10))
                .reserve(Duration.ofMillis(50))
                .build();
        inventory = server("inventory", policy, this::inventory);
        TetherHttpClient inventoryClient = TetherHttpClient.builder(http)
                .budget(OutboundBudget.builder().perHopReserve(Duration.ofMillis(500)).build())
                .peer("inventory")
                .build();
        URI stock = uri(inventory, "/stock");
        orders = server("orders", policy, request -> orders(request, inventoryClient, stock));
    }

    @AfterEach
    void stop() throws Exception {
        orders.stop();
        inventory.stop();
        counting.close();
        bridge.close();
        tracerProvider.close();
        meterProvider.close();
        assertSame(Context.background(), Context.current());
    }

    /** Hop 2: looks stock up in a span of its own, and takes far longer than any budget. */
    private String inventory(Request request) throws Exception {
        Span lookup = tracer.spanBuilder("stock lookup").startSpan(); // bound by TetherSpanProcessor
        try (Scope s = lookup.makeCurrent()) {
            Blocking.sleep(Context.current(), Duration.ofSeconds(30)); // ends when the request's budget does
            return "42";
        } finally {
            lookup.end();
        }
    }

    /** Hop 1: asks hop 2 through tether-httpclient, under the request's context, in a client span. */
    private String orders(Request request, TetherHttpClient inventoryClient, URI stock) throws Exception {
        Span call = tracer.spanBuilder("GET /stock").setSpanKind(SpanKind.CLIENT).startSpan();
        try (Scope s = call.makeCurrent()) {
            metrics.recordBudget(Context.current(), TetherMetrics.Direction.OUTBOUND);
            HttpRequest.Builder builder = HttpRequest.newBuilder(stock);
            W3CTraceContextPropagator.getInstance().inject(
                    io.opentelemetry.context.Context.current(), builder, HttpRequest.Builder::header);
            // Sends the budget left less the per-hop reserve, and the origin; a tether-ended answer throws.
            HttpResponse<String> response = inventoryClient.send(builder.build(), HttpResponse.BodyHandlers.ofString());
            return "stock: " + response.body();
        } catch (RuntimeException | java.io.IOException e) {
            call.setStatus(StatusCode.ERROR, e.getClass().getSimpleName());
            throw e;
        } finally {
            call.end();
        }
    }

    @Test
    void hopTwoRunsOutOfBudgetAndBothServersSpansSayWhyInOneTrace() throws Exception {
        Span gateway = tracer.spanBuilder("POST /checkout").setSpanKind(SpanKind.CLIENT).startSpan();
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(orders, "/order"))
                .header(WireHeaders.BUDGET, "2S")
                .header(WireHeaders.ORIGIN, "gateway/POST:/checkout");
        W3CTraceContextPropagator.getInstance().inject(
                io.opentelemetry.context.Context.root().with(gateway), request, HttpRequest.Builder::header);

        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        gateway.end();

        assertEquals(504, response.statusCode(), response.body());
        EndedEarly ended = EndedEarly.parse(response.headers().firstValue(WireHeaders.ENDED).orElseThrow());
        assertEquals(EndedEarly.Kind.DEADLINE_EXCEEDED, ended.kind());
        assertTrue(ended.reason().startsWith("inventory ended the call early: deadline-exceeded: budget "),
                ended.reason());
        assertTrue(ended.reason().contains("from gateway/POST:/checkout ran out at inventory/GET:/stock"),
                ended.reason());

        List<SpanData> finished = awaitSpans(5); // gateway, orders server, its client call, inventory server, lookup
        String trace = gateway.getSpanContext().getTraceId();
        assertTrue(finished.stream().allMatch(s -> s.getTraceId().equals(trace)), "one trace: " + finished);

        // Hop 2: its budget ran out; the gateway set the deadline.
        SpanData inventoryServer = span(finished, "inventory GET /stock");
        Attributes a2 = inventoryServer.getAttributes();
        assertEquals(SpanKind.SERVER, inventoryServer.getKind());
        assertEquals("deadline_exceeded", a2.get(TetherSpans.CANCEL_TYPE));
        assertEquals("context deadline exceeded", a2.get(TetherSpans.CANCEL_REASON));
        assertEquals("gateway/POST:/checkout", a2.get(TetherSpans.DEADLINE_ORIGIN));
        assertEquals("dev.tether.DeadlineExceededException", a2.get(TetherSpans.ERROR_TYPE));
        long budget2 = a2.get(TetherSpans.DEADLINE_BUDGET_MS);
        assertTrue(budget2 > 500 && budget2 < 1500, "2 s less hop 1's reserve, hop 2's reserve and travel: " + budget2);
        assertCancelledEvent(inventoryServer, "deadline_exceeded");
        SpanData lookup = span(finished, "stock lookup");
        assertEquals("deadline_exceeded", lookup.getAttributes().get(TetherSpans.CANCEL_TYPE));
        assertEquals(inventoryServer.getSpanId(), lookup.getParentSpanId());

        // Hop 1: cancelled by hop 2's answer, which is its cause.
        SpanData ordersServer = span(finished, "orders GET /order");
        Attributes a1 = ordersServer.getAttributes();
        assertEquals("cancelled", a1.get(TetherSpans.CANCEL_TYPE));
        assertTrue(a1.get(TetherSpans.CANCEL_REASON).startsWith(
                "inventory ended the call early: deadline-exceeded: budget "), a1.get(TetherSpans.CANCEL_REASON));
        assertEquals("gateway/POST:/checkout", a1.get(TetherSpans.DEADLINE_ORIGIN));
        assertEquals("dev.tether.ContextCancelledException", a1.get(TetherSpans.ERROR_TYPE));
        long budget1 = a1.get(TetherSpans.DEADLINE_BUDGET_MS);
        assertTrue(budget1 > budget2 && budget1 <= 1950, "hop 1 had 2 s less its reserve: " + budget1);
        assertCancelledEvent(ordersServer, "cancelled");
        assertEquals(StatusCode.ERROR, ordersServer.getStatus().getStatusCode());

        // The client span between them ended with hop 2's answer, before hop 1's context ended: not a cancellation.
        SpanData client = span(finished, "GET /stock");
        assertNull(client.getAttributes().get(TetherSpans.CANCEL_TYPE));
        assertEquals("PeerEndedException", client.getStatus().getDescription());
        assertEquals(client.getSpanId(), inventoryServer.getParentSpanId());
        assertEquals(ordersServer.getSpanId(), client.getParentSpanId());
        assertEquals(gateway.getSpanContext().getSpanId(), ordersServer.getParentSpanId());

        // Metrics: one deadline (hop 2) under the gateway's origin, one cancel with a cause (hop 1).
        assertEquals(Map.of(
                Attributes.of(TetherSpans.CANCEL_TYPE, "deadline_exceeded", TetherSpans.DEADLINE_ORIGIN, "gateway"), 1L,
                Attributes.of(TetherSpans.CANCEL_TYPE, "cancelled"), 1L), counts());
        Map<Attributes, HistogramPointData> budgets = histogramPoints(TetherMetrics.REMAINING);
        HistogramPointData inbound = budgets.get(Attributes.of(TetherMetrics.BUDGET_DIRECTION, "inbound",
                TetherSpans.DEADLINE_ORIGIN, "gateway"));
        HistogramPointData outbound = budgets.get(Attributes.of(TetherMetrics.BUDGET_DIRECTION, "outbound",
                TetherSpans.DEADLINE_ORIGIN, "gateway"));
        assertEquals(2, inbound.getCount(), "one per hop");
        assertEquals(1, outbound.getCount());
        assertTrue(inbound.getMin() > 0.5 && inbound.getMax() <= 1.95, inbound.toString());
    }

    @Test
    void aRequestThatSucceedsLeavesItsSpansClean() throws Exception {
        Server quick = server("quick", InboundBudget.builder().build(), request -> "ok");
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri(quick, "/ping"))
                    .header(WireHeaders.BUDGET, "2S").build(), HttpResponse.BodyHandlers.ofString());

            assertEquals(200, response.statusCode());
            SpanData server = span(awaitSpans(1), "quick GET /ping");
            assertTrue(server.getAttributes().isEmpty(), server.getAttributes().toString());
            assertTrue(server.getEvents().isEmpty());
            assertTrue(counts().isEmpty(), "the answered request's end is not counted: " + counts());
        } finally {
            quick.stop();
        }
    }

    // ---- the servers ----

    @FunctionalInterface
    private interface Work {
        String handle(Request request) throws Exception;
    }

    /**
     * Jetty on a free loopback port: the tracing handler, then tether-jetty's TetherHandler, then the application
     * handler, which binds the server span to the request's context and records the budget received.
     */
    private Server server(String service, InboundBudget policy, Work work) throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool(16, 2);
        threads.setName("test-" + service);
        Server server = new Server(threads);
        ServerConnector connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(new HttpConfiguration()));
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        Handler application = new Handler.Abstract(Invocable.InvocationType.BLOCKING) {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                Context requestContext = Context.current();
                metrics.recordInbound(Objects.requireNonNull(TetherHandler.call(request)));
                request.setAttribute(BINDING, TetherSpans.bind(requestContext, Span.current()));
                String body = work.handle(request);
                Content.Sink.write(response, true, body, callback);
                return true;
            }
        };
        server.setHandler(new Tracing(service, TetherHandler.builder(service).policy(policy).build(application)));
        server.start();
        return server;
    }

    /** Stands in for OpenTelemetry's HTTP server instrumentation. */
    private final class Tracing extends Handler.Wrapper {
        private final String service;

        Tracing(String service, Handler next) {
            super(next);
            this.service = service;
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception {
            io.opentelemetry.context.Context parent = W3CTraceContextPropagator.getInstance().extract(
                    io.opentelemetry.context.Context.root(), request.getHeaders(), JETTY_HEADERS);
            Span span = tracer.spanBuilder(service + " " + request.getMethod() + " " + request.getHttpURI().getPath())
                    .setSpanKind(SpanKind.SERVER)
                    .setParent(parent)
                    .startSpan();
            Request.addCompletionListener(request, failure -> {
                if (request.getAttribute(BINDING) instanceof SpanBinding binding) {
                    binding.close(); // before the span ends, so that a late-recorded end still lands
                }
                span.end();
            });
            try (Scope s = span.makeCurrent()) {
                return super.handle(request, response, callback);
            }
        }
    }

    private static URI uri(Server server, String path) {
        return URI.create("http://127.0.0.1:" + ((ServerConnector) server.getConnectors()[0]).getLocalPort() + path);
    }

    // ---- reading what was exported ----

    /** The finished spans once there are {@code n}: servers end theirs as responses complete, after the client saw them. */
    private List<SpanData> awaitSpans(int n) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (spans.getFinishedSpanItems().size() < n && System.nanoTime() - deadline < 0) {
            Thread.sleep(10); // polling for completion, not timing anything
        }
        List<SpanData> finished = spans.getFinishedSpanItems();
        assertTrue(finished.size() >= n, "expected " + n + " spans, got " + finished);
        return finished;
    }

    private static SpanData span(List<SpanData> finished, String name) {
        List<SpanData> matching = finished.stream().filter(s -> s.getName().equals(name)).toList();
        assertEquals(1, matching.size(), name + " in " + finished);
        return matching.get(0);
    }

    private static void assertCancelledEvent(SpanData span, String type) {
        List<io.opentelemetry.sdk.trace.data.EventData> events = span.getEvents().stream()
                .filter(e -> e.getName().equals(TetherSpans.CANCELLED_EVENT)).toList();
        assertEquals(1, events.size(), span.getName() + ": " + span.getEvents());
        assertEquals(type, events.get(0).getAttributes().get(TetherSpans.CANCEL_TYPE));
        assertNotNull(events.get(0).getAttributes().get(TetherSpans.CANCEL_REASON));
        assertTrue(events.get(0).getEpochNanos() <= span.getEndEpochNanos());
    }

    private Map<Attributes, Long> counts() {
        Map<Attributes, Long> out = new HashMap<>();
        for (MetricData m : reader.collectAllMetrics()) {
            if (m.getName().equals(TetherMetrics.CANCELLED)) {
                for (LongPointData p : m.getLongSumData().getPoints()) {
                    out.put(p.getAttributes(), p.getValue());
                }
            }
        }
        return out;
    }

    private Map<Attributes, HistogramPointData> histogramPoints(String name) {
        Map<Attributes, HistogramPointData> out = new HashMap<>();
        for (MetricData m : reader.collectAllMetrics()) {
            if (m.getName().equals(name)) {
                for (HistogramPointData p : m.getHistogramData().getPoints()) {
                    out.put(p.getAttributes(), p);
                }
            }
        }
        return out;
    }
}
