package dev.tether.otel;

import io.opentelemetry.sdk.trace.SpanProcessor;

/**
 * An SDK span processor that binds every span to the Tether context current where the span starts: a span still
 * open when that context ends early records why, as {@link TetherSpans#bind} does, with no code at the span's
 * site. So spans started by instrumentation (HTTP clients, JDBC, the Java agent) inside a Tether request record
 * its end too.
 *
 * {@snippet :
 * SdkTracerProvider tracerProvider = SdkTracerProvider.builder()
 *         .addSpanProcessor(TetherSpanProcessor.create())
 *         .addSpanProcessor(BatchSpanProcessor.builder(exporter).build())
 *         .build();
 * }
 *
 * <p>A span started while no context or a root is current is not bound. Every span open under a context when it
 * ends records, not only the innermost: each was cut short. When code learns of the end first (the context's
 * listeners run in no set order) and ends its span before the binding has recorded, the processor records as the
 * span ends, while it is still writable, through the SDK's {@code ExtendedSpanProcessor}; an SDK without that
 * interface gets a processor that may miss such a span.
 *
 * <p>Needs {@code opentelemetry-sdk-trace}, an optional dependency of this module; the rest of the module runs on
 * the API alone.
 */
public final class TetherSpanProcessor {

    /** Whether the SDK has the interface that tells a processor a span is ending (internal in 1.68). */
    private static final boolean ENDING = endingSupported();

    private TetherSpanProcessor() {}

    /** A processor; register it with the tracer provider before the exporting processor. */
    public static SpanProcessor create() {
        return ENDING ? new EndingSpanBindings() : new SpanBindings();
    }

    private static boolean endingSupported() {
        try {
            Class.forName("io.opentelemetry.sdk.trace.internal.ExtendedSpanProcessor", false,
                    TetherSpanProcessor.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
