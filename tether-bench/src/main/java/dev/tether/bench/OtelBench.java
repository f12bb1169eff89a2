package dev.tether.bench;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.otel.OtelContextBridge;
import dev.tether.otel.SpanBinding;
import dev.tether.otel.TetherSpanProcessor;
import dev.tether.otel.TetherSpans;
import dev.tether.spi.ContextObservers;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What tether-otel costs. Per span, on the OpenTelemetry SDK (sampled, recording spans, no exporter, so the
 * span's own cost is the baseline): {@link TetherSpans#recordCancellation} on a span whose context was cancelled
 * (six attributes, an event, a status), {@link TetherSpans#bind} + close on a live context (the normal path:
 * nothing recorded), and the same through {@link TetherSpanProcessor} (a span started under an attached
 * cancellable context). Per hand-off: a task wrapped by {@code ctx.wrap} and run, with the
 * {@link OtelContextBridge} installed or not (param {@code bridge}), against OpenTelemetry's own
 * {@code Context.current().wrap(task)}: a span is current at the hand-off and not where the task runs, as on a
 * worker thread, so the run really switches contexts; both rows include making the span current and closing that
 * scope before the run.
 *
 * <p>The observer SPI is process-wide, so the bridge is installed for the whole trial, and JMH runs each
 * benchmark in its own fork. Subtract {@code otel_spanStartEnd} from the span rows, and {@code bridge=false} from
 * {@code bridge=true}, for tether-otel's own cost.
 *
 * <p>Run: {@code tether-bench/run.sh --jmh OtelBench -prof gc}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class OtelBench {

    private SdkTracerProvider plainProvider;
    private SdkTracerProvider processorProvider;
    private Tracer plain;
    private Tracer withProcessor;
    private CancellableContext live;
    private CancellableContext cancelled;

    @Setup
    public void setUp() {
        // Without a processor that wants ended spans the SDK hands out non-recording spans; this one drops them.
        plainProvider = SdkTracerProvider.builder().addSpanProcessor(new Discard()).build();
        processorProvider = SdkTracerProvider.builder()
                .addSpanProcessor(TetherSpanProcessor.create())
                .addSpanProcessor(new Discard())
                .build();
        plain = plainProvider.get("bench");
        withProcessor = processorProvider.get("bench");
        live = Context.background().withTimeout(java.time.Duration.ofHours(1));
        cancelled = Context.background().withCancel();
        cancelled.cancel(new IllegalStateException("client went away"));
    }

    @TearDown
    public void tearDown() {
        live.close();
        plainProvider.close();
        processorProvider.close();
    }

    /** An exporter stand-in: wants ended spans, as any exporting processor does, and drops them. */
    static final class Discard implements SpanProcessor {
        @Override
        public void onStart(io.opentelemetry.context.Context parentContext, ReadWriteSpan span) {}

        @Override
        public boolean isStartRequired() {
            return false;
        }

        @Override
        public void onEnd(ReadableSpan span) {}

        @Override
        public boolean isEndRequired() {
            return true;
        }
    }

    /** Start and end a span: the baseline of the span rows. */
    @Benchmark
    public Span otel_spanStartEnd() {
        Span span = plain.spanBuilder("op").startSpan();
        span.end();
        return span;
    }

    /** Start a span, record its context's cancellation (attributes, event, status), end it. */
    @Benchmark
    public Span tether_recordCancellation() {
        Span span = plain.spanBuilder("op").startSpan();
        TetherSpans.recordCancellation(cancelled, span);
        span.end();
        return span;
    }

    /** Start a span, bind it to a live context with a deadline, close the binding, end the span. */
    @Benchmark
    public Span tether_bindAndClose() {
        Span span = plain.spanBuilder("op").startSpan();
        SpanBinding binding = TetherSpans.bind(live, span);
        binding.close();
        span.end();
        return span;
    }

    /** Start and end a span with the TetherSpanProcessor, under an attached live context. */
    @Benchmark
    public Span tether_processor() {
        dev.tether.Scope scope = live.attach();
        try {
            Span span = withProcessor.spanBuilder("op").startSpan();
            span.end();
            return span;
        } finally {
            scope.close();
        }
    }

    /** The hand-off rows: a span current at hand-off, the bridge installed or not. */
    @State(Scope.Thread)
    public static class HandOff {
        @Param({"true", "false"})
        public boolean bridge;

        ContextObservers.Installation installation;
        Context request;
        io.opentelemetry.context.Context withSpan;
        final Runnable task = () -> { };
        SdkTracerProvider provider;
        Span span;

        @Setup(Level.Trial)
        public void setUp() {
            installation = bridge ? OtelContextBridge.install() : null;
            provider = SdkTracerProvider.builder().addSpanProcessor(new Discard()).build();
            span = provider.get("bench").spanBuilder("request").startSpan();
            withSpan = io.opentelemetry.context.Context.root().with(span);
            request = Context.background().withValue(dev.tether.Key.of("k"), "v");
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            span.end();
            provider.close();
            if (installation != null) {
                installation.close();
            }
        }
    }

    /**
     * With the span current: ctx.wrap(task); then, the span no longer current (as on a worker thread), run it.
     * With the bridge, the run makes the span current and restores the worker's context after.
     */
    @Benchmark
    @SuppressWarnings("try") // the scope is used for its close()
    public Runnable tether_handOff(HandOff h) {
        Runnable wrapped;
        try (io.opentelemetry.context.Scope s = h.withSpan.makeCurrent()) {
            wrapped = h.request.wrap(h.task);
        }
        wrapped.run();
        return wrapped;
    }

    /** The same with OpenTelemetry's own hand-off: Context.current().wrap(task), then run it. */
    @Benchmark
    @SuppressWarnings("try") // the scope is used for its close()
    public Runnable otel_handOff(HandOff h) {
        Runnable wrapped;
        try (io.opentelemetry.context.Scope s = h.withSpan.makeCurrent()) {
            wrapped = io.opentelemetry.context.Context.current().wrap(h.task);
        }
        wrapped.run();
        return wrapped;
    }
}
