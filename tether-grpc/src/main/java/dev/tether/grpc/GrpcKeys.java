package dev.tether.grpc;

import dev.tether.ContextCancelledException;
import dev.tether.ContextDoneException;
import dev.tether.DeadlineExceededException;
import dev.tether.wire.EndedEarly;
import dev.tether.wire.WireHeaders;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** The metadata keys of the wire protocol, and the mapping between Tether's errors and gRPC status codes. */
final class GrpcKeys {

    static final Metadata.Key<String> ORIGIN = Metadata.Key.of(WireHeaders.ORIGIN, Metadata.ASCII_STRING_MARSHALLER);

    static final Metadata.Key<String> ENDED = Metadata.Key.of(WireHeaders.ENDED, Metadata.ASCII_STRING_MARSHALLER);

    // The other request headers the budget policy reads, made once: a Metadata.Key is checked and copied when made.
    private static final Map<String, Metadata.Key<String>> READ = Map.of(
            WireHeaders.ORIGIN, ORIGIN,
            WireHeaders.BUDGET, Metadata.Key.of(WireHeaders.BUDGET, Metadata.ASCII_STRING_MARSHALLER),
            WireHeaders.ENVOY_TIMEOUT, Metadata.Key.of(WireHeaders.ENVOY_TIMEOUT, Metadata.ASCII_STRING_MARSHALLER),
            WireHeaders.FINAGLE_DEADLINE, Metadata.Key.of(WireHeaders.FINAGLE_DEADLINE,
                    Metadata.ASCII_STRING_MARSHALLER));

    private GrpcKeys() {
    }

    /** The ASCII metadata key of a lower-case header name. */
    static Metadata.Key<String> ascii(String name) {
        Metadata.Key<String> key = READ.get(name);
        return key != null ? key : Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER);
    }

    /** DEADLINE_EXCEEDED for a deadline, CANCELLED for everything else that ends a context. */
    static Status.Code codeOf(ContextDoneException err) {
        return err instanceof DeadlineExceededException ? Status.Code.DEADLINE_EXCEEDED : Status.Code.CANCELLED;
    }

    static Status.Code codeOf(EndedEarly.Kind kind) {
        return kind == EndedEarly.Kind.DEADLINE_EXCEEDED ? Status.Code.DEADLINE_EXCEEDED : Status.Code.CANCELLED;
    }

    /** The Tether error that a chain of causes holds, if any; bounded, since causes can form long chains. */
    static @Nullable ContextDoneException findDone(@Nullable Throwable t) {
        for (int depth = 0; t != null && depth < 16; depth++, t = t.getCause()) {
            if (t instanceof ContextDoneException done) {
                return done;
            }
        }
        return null;
    }

    /** A fresh Tether error of the same kind, for relaying an end that happened elsewhere. */
    static ContextDoneException relay(EndedEarly.Kind kind, String message, @Nullable Throwable cause) {
        return kind == EndedEarly.Kind.DEADLINE_EXCEEDED
                ? new DeadlineExceededException(message, cause)
                : new ContextCancelledException(message, cause);
    }
}
