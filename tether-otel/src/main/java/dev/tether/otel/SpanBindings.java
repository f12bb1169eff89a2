package dev.tether.otel;

import dev.tether.Context;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SpanProcessor;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What {@link TetherSpanProcessor#create()} returns when the SDK cannot tell a processor that a span is ending:
 * spans are bound at start and released at end.
 *
 * <p>Implementation: one {@link SpanBinding} per open bound span, held in a map from the span (SDK spans have
 * identity equality) until the span ends ({@link #ending} or {@link #onEnd}) or its context ends and it has
 * recorded, whichever is first; so neither a finished span nor an ended context is retained. The map is written
 * by the threads that start and end spans and by the threads that end contexts.
 */
class SpanBindings implements SpanProcessor {

    private final ConcurrentHashMap<ReadableSpan, SpanBinding> open = new ConcurrentHashMap<>();

    @Override
    public void onStart(io.opentelemetry.context.Context parentContext, ReadWriteSpan span) {
        Context context = Context.current();
        if (context == Context.background() || context == Context.todo()) {
            return; // never ends: nothing to bind
        }
        SpanBinding binding = SpanBinding.bind(context, span, () -> open.remove(span));
        open.put(span, binding);
        if (binding.fired()) {
            open.remove(span); // it fired before the put: its own remove found nothing
        }
    }

    @Override
    public boolean isStartRequired() {
        return true;
    }

    /**
     * The span is ending and still writable: closing the binding records the context's end if it came first but
     * its onDone action has not run yet.
     */
    void ending(ReadableSpan span) {
        SpanBinding binding = open.remove(span);
        if (binding != null) {
            binding.close();
        }
    }

    @Override
    public void onEnd(ReadableSpan span) {
        ending(span); // too late to write, if ending() was not called: releases the binding all the same
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
