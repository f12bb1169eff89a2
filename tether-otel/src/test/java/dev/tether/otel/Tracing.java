package dev.tether.otel;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.util.List;

/** An SDK tracer that exports into memory, optionally behind a {@link TetherSpanProcessor}. */
final class Tracing implements AutoCloseable {

    final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    final SdkTracerProvider provider;
    final Tracer tracer;
    final SpanBindings processor;

    private Tracing(boolean withProcessor) {
        processor = (SpanBindings) TetherSpanProcessor.create();
        var builder = SdkTracerProvider.builder();
        if (withProcessor) {
            builder.addSpanProcessor(processor);
        }
        provider = builder.addSpanProcessor(SimpleSpanProcessor.create(exporter)).build();
        tracer = provider.get("dev.tether.otel.test");
    }

    static Tracing plain() {
        return new Tracing(false);
    }

    static Tracing withProcessor() {
        return new Tracing(true);
    }

    Span start(String name) {
        return tracer.spanBuilder(name).startSpan();
    }

    List<SpanData> finished() {
        return exporter.getFinishedSpanItems();
    }

    SpanData finished(String name) {
        List<SpanData> matching = finished().stream().filter(s -> s.getName().equals(name)).toList();
        if (matching.size() != 1) {
            throw new AssertionError("expected one finished span named " + name + ", found " + finished());
        }
        return matching.get(0);
    }

    @Override
    public void close() {
        provider.close();
    }
}
