package dev.tether.otel;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.spi.ContextObserver;
import dev.tether.spi.ContextObservers;
import io.opentelemetry.context.Scope;
import org.jspecify.annotations.Nullable;

/**
 * Makes the OpenTelemetry context (and so {@code Span.current()}, baggage, everything OpenTelemetry keeps there)
 * follow Tether's hand-offs: a task bound to a Tether context by {@code wrap}, {@code run}, {@code call}, a
 * {@code ContextExecutors} executor or a {@code TaskGroup} fork runs with the OpenTelemetry context that was
 * current on the thread that handed it off, and the worker's own OpenTelemetry context is back when it ends.
 *
 * {@snippet :
 * ContextObservers.Installation bridge = OtelContextBridge.install();   // once, at start-up
 *
 * Span span = tracer.spanBuilder("checkout").startSpan();
 * try (io.opentelemetry.context.Scope s = span.makeCurrent();
 *      TaskGroup group = TaskGroup.open(Context.current())) {
 *     group.fork(() -> Span.current());                                // the checkout span
 *     group.join();
 * }
 * }
 *
 * <h2>How</h2>
 * The bridge is a {@link ContextObserver}: tether-core tells it when a task is handed off (on the submitting
 * thread), when it starts and when it ends (on the worker). At hand-off it captures
 * {@code io.opentelemetry.context.Context.current()}; at start it makes that context current; at end it closes
 * that scope, which restores what the worker had. Hand-offs on one thread ({@code run}, {@code call}) capture the
 * context that is already current, which OpenTelemetry makes current again at no cost.
 *
 * <p>It captures at hand-off rather than storing the OpenTelemetry context inside Tether's context, because
 * Tether contexts are immutable and usually made before the span: a request context derived at the top of a
 * handler does not hold the span that instrumentation starts afterwards, so {@code requestContext.wrap(task)}
 * would lose it. Capturing at hand-off is what OpenTelemetry's own {@code Context.current().wrap(task)} does, it
 * uses only OpenTelemetry's public API, and so it works with whatever {@code ContextStorage} is installed (the
 * default thread-local one, the Java agent's, or a {@code ContextStorageProvider}) instead of replacing it.
 *
 * <p>A task handed off before the bridge was installed runs with the worker's OpenTelemetry context unchanged.
 * Executors and threads Tether does not wrap are not bridged; use OpenTelemetry's {@code Context.taskWrapping}
 * there.
 */
public final class OtelContextBridge {

    private static final Observer OBSERVER = new Observer();

    private OtelContextBridge() {}

    /**
     * Installs the bridge process-wide until the returned installation is closed.
     *
     * @throws IllegalStateException if the bridge is installed already
     */
    public static ContextObservers.Installation install() {
        return ContextObservers.install(OBSERVER);
    }

    /**
     * The observer: tokens are the captured OpenTelemetry context (submit) and the scope that made it current
     * (start). Stateless, so one instance serves every thread; each token lives on one task.
     */
    private static final class Observer implements ContextObserver {
        @Override
        public Object taskSubmitted(@Nullable CancellableContext owner, Context context) {
            return io.opentelemetry.context.Context.current();
        }

        @Override
        public @Nullable Object taskStarted(
                @Nullable CancellableContext owner, Context context, @Nullable Object submitted) {
            // Not ours (handed off before the bridge was installed): leave the worker's context as it is.
            return submitted instanceof io.opentelemetry.context.Context otel ? otel.makeCurrent() : null;
        }

        @Override
        public void taskEnded(@Nullable Object started) {
            if (started instanceof Scope scope) {
                scope.close();
            }
        }

        @Override
        public String toString() {
            return "OtelContextBridge";
        }
    }
}
