package dev.tether.examples;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import dev.tether.otel.OtelContextBridge;
import dev.tether.otel.TetherSpanProcessor;
import dev.tether.otel.TetherSpans;
import dev.tether.spi.ContextObservers;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The chain demo's tracing: an OpenTelemetry SDK in this process, with tether-otel's {@link OtelContextBridge}
 * (the current span follows Tether's hand-offs) and {@link TetherSpanProcessor} (a span whose context ends early
 * records why), exporting finished spans to a queue the demo reads after each scenario.
 */
final class Telemetry implements AutoCloseable {

    /** The attributes the demo prints for a span that ended early, in order. */
    static final List<AttributeKey<?>> SHOWN = List.of(TetherSpans.CANCEL_TYPE, TetherSpans.DEADLINE_BUDGET_MS,
            TetherSpans.DEADLINE_ORIGIN, TetherSpans.ERROR_TYPE, TetherSpans.RPC_RESPONSE_STATUS_CODE,
            TetherSpans.CANCEL_REASON);

    private final BlockingQueue<SpanData> finished = new LinkedBlockingQueue<>();
    private final ContextObservers.Installation bridge;
    private final SdkTracerProvider provider;

    private Telemetry() {
        bridge = OtelContextBridge.install();
        provider = SdkTracerProvider.builder()
                .addSpanProcessor(TetherSpanProcessor.create())   // first: records before the span is exported
                .addSpanProcessor(SimpleSpanProcessor.create(new Collector(finished)))
                .build();
    }

    static Telemetry start() {
        return new Telemetry();
    }

    Tracer tracer() {
        return provider.get("dev.tether.examples.ChainDemo");
    }

    /** The next {@code count} spans to finish, waiting at most {@code bound} for them; fewer if they do not. */
    List<SpanData> await(int count, Duration bound) throws InterruptedException {
        List<SpanData> spans = new ArrayList<>(count);
        long deadline = System.nanoTime() + bound.toNanos();
        while (spans.size() < count) {
            SpanData span = finished.poll(Math.max(0, deadline - System.nanoTime()), NANOSECONDS);
            if (span == null) {
                break;
            }
            spans.add(span);
        }
        return spans;
    }

    /** Forgets the spans finished so far. */
    void forget() {
        finished.clear();
    }

    /** Whether the span records an early end of its context. */
    static boolean endedEarly(SpanData span) {
        return span.getAttributes().get(TetherSpans.CANCEL_TYPE) != null;
    }

    /** Where the span's service is in the chain: gateway first. */
    static int hopOrder(SpanData span) {
        String name = span.getName();
        return name.startsWith("gateway") ? 0 : name.startsWith("orders") ? 1 : 2;
    }

    /** The span's name, then its Tether attributes, one per line under it. */
    static List<String> lines(SpanData span) {
        List<String> lines = new ArrayList<>();
        lines.add("  " + span.getName());
        for (AttributeKey<?> key : SHOWN) {
            Object value = span.getAttributes().get(key);
            if (value != null) {
                lines.add(String.format(Locale.ROOT, "      %-27s %s", key.getKey(), value));
            }
        }
        return lines;
    }

    @Override
    public void close() {
        provider.close();
        bridge.close();
    }

    /** A span exporter that queues what it is given. */
    private static final class Collector implements SpanExporter {
        private final BlockingQueue<SpanData> finished;

        Collector(BlockingQueue<SpanData> finished) {
            this.finished = finished;
        }

        @Override
        public CompletableResultCode export(Collection<SpanData> spans) {
            finished.addAll(spans);
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode flush() {
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode shutdown() {
            return CompletableResultCode.ofSuccess();
        }
    }
}
