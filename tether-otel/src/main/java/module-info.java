/**
 * OpenTelemetry for Tether: the current OpenTelemetry context (and so the active span) follows every Tether
 * hand-off, spans record why their context ended early, and cancellation metrics.
 */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"}) // OpenTelemetry's jars are automatic modules
module dev.tether.otel {
    requires transitive dev.tether;
    requires transitive dev.tether.wire;
    requires transitive io.opentelemetry.api;
    requires transitive io.opentelemetry.context;
    // Only TetherSpanProcessor, and reading an SDK span's rpc.system, need the SDK; the rest runs on the API alone.
    requires static transitive io.opentelemetry.sdk.trace;
    requires static transitive io.opentelemetry.sdk.common;
    requires static org.jspecify;

    exports dev.tether.otel;
}
