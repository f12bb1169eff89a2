package dev.tether.otel;

import dev.tether.Context;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SpanProcessor;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An SDK span processor that binds every span to the Tether context current where the span starts: a span still
 * open when that context ends records why, as {@link TetherSpans#bind} does, with no code at the span's site. So
 * spans started by instrumentation (HTTP clients, JDBC, the Java agent) inside a Tether request record its end
 * too.
 *
 * {@snippet :
 * SdkTracerProvider tracerProvider = SdkTracerProvider.builder()
 *         .addSpanProcessor(TetherSpanProcessor.create())
 *         .addSpanProcessor(BatchSpanProcessor.builder(exporter).build())
 *         .build();
 * }
 *
 * <p>A span started while no context or a root is current is not bound. Every span open under a context when it
 * ends records, not only the innermost: each was cut short. Needs {@code opentelemetry-sdk-trace}, an optional
 * dependency of this module; the rest of the module runs on the API alone.
 */
public final class TetherSpanProcessor implements SpanProcessor {

    /*
     * Implementation: one SpanBinding per open bound span, held in a map from the span (SDK spans have identity
     * equality) until onEnd closes it or its context ends and it has recorded, whichever is first; so neither a
     * finished span nor an ended context is retained. The map is written by the threads that start and end spans
     * and by the threads that end contexts.
     */

    private final ConcurrentHashMap<ReadableSpan, SpanBinding> open = new ConcurrentHashMap<>();

    private TetherSpanProcessor() {}

    /** A processor; register it with the tracer provider before the exporting processor. */
    public static TetherSpanProcessor create() {
        return new TetherSpanProcessor();
    }

    @Override
    public void onStart(io.opentelemetry.context.Context parentContext, ReadWriteSpan span) {
        Context context = Context.current();
        if (context == Context.background() || context == Context.todo()) {
            return; // never ends: nothing to bind
        }
        SpanBinding binding = SpanBinding.bind(context, span, () -> open.remove(span));
        open.put(span, binding);
        if (binding.recorded()) {
            open.remove(span); // it recorded before the put: its own remove found nothing
        }
    }

    @Override
    public boolean isStartRequired() {
        return true;
    }

    @Override
    public void onEnd(ReadableSpan span) {
        SpanBinding binding = open.remove(span);
        if (binding != null) {
            binding.close();
        }
    }

    @Override
    public boolean isEndRequired() {
        return true;
    }

    /** Spans open now and bound to a context that has not ended; for tests of retention. */
    int openBindings() {
        return open.size();
    }

    /** Stops every binding: spans still open no longer record their context's end. */
    @Override
    public CompletableResultCode shutdown() {
        open.values().forEach(SpanBinding::close);
        open.clear();
        return CompletableResultCode.ofSuccess();
    }

    @Override
    public String toString() {
        return "TetherSpanProcessor[open=" + open.size() + "]";
    }
}
