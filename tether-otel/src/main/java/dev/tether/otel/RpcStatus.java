package dev.tether.otel;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.sdk.trace.ReadableSpan;
import org.jspecify.annotations.Nullable;

/**
 * The RPC status code a cancellation stands for on an RPC span. Only an SDK span can be asked whether it is an RPC
 * span (the API's {@link Span} has no getters), so this touches the SDK, which is optional: {@link #SDK} is
 * checked before any SDK type is linked.
 */
final class RpcStatus {

    // rpc.system.name is the current name, rpc.system the one instrumentation still sets.
    private static final AttributeKey<String> RPC_SYSTEM_NAME = AttributeKey.stringKey("rpc.system.name");
    private static final AttributeKey<String> RPC_SYSTEM = AttributeKey.stringKey("rpc.system");

    /** Whether the trace SDK is visible to this module, so that {@code instanceof ReadableSpan} can link. */
    private static final boolean SDK = sdkPresent();

    private RpcStatus() {}

    /**
     * The {@code rpc.response.status_code} for a context that ended by deadline or by cancel: gRPC's status names
     * on gRPC spans, Connect's codes on Connect spans; null on other spans, and when the SDK is absent.
     */
    static @Nullable String codeFor(Span span, boolean deadline) {
        if (!SDK) {
            return null;
        }
        String system = systemOf(span);
        if (system == null) {
            return null;
        }
        return switch (system) {
            case "grpc" -> deadline ? "DEADLINE_EXCEEDED" : "CANCELLED";
            case "connect_rpc", "connectrpc" -> deadline ? "deadline_exceeded" : "canceled";
            default -> null;
        };
    }

    private static @Nullable String systemOf(Span span) {
        if (!(span instanceof ReadableSpan readable)) {
            return null;
        }
        String system = readable.getAttribute(RPC_SYSTEM_NAME);
        return system != null ? system : readable.getAttribute(RPC_SYSTEM);
    }

    private static boolean sdkPresent() {
        try {
            Class.forName("io.opentelemetry.sdk.trace.ReadableSpan", false, RpcStatus.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
