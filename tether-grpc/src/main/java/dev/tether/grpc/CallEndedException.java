package dev.tether.grpc;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The cause a server's request context is cancelled with when the gRPC call under it ends on gRPC's side: it
 * completed, the client cancelled it (or its connection went away), or gRPC's own deadline for it passed. Read it
 * from {@code Context.current().cause()} in a handler to tell a client that went away from a budget that ran out.
 *
 * <p>Like Tether's own errors it carries no stack trace: it names an event, not a place in the code.
 */
public final class CallEndedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** How the call ended. */
    public enum How {
        /** The server closed the call (with any status) and gRPC delivered it: the request is over. */
        COMPLETED,
        /** The client cancelled the call, or the transport lost it, before the server closed it. */
        CANCELLED,
        /** gRPC's deadline for the call passed before the server closed it. */
        DEADLINE_PASSED
    }

    private final How how;
    private final String method;

    CallEndedException(How how, String method, @Nullable Throwable cause) {
        // One per call, made when it ends: the message is put together only if someone reads it.
        super(null, cause, false, false);
        this.how = Objects.requireNonNull(how, "how");
        this.method = Objects.requireNonNull(method, "method");
    }

    @Override
    public String getMessage() {
        return message(how, method);
    }

    /** How the call ended. */
    public How how() {
        return how;
    }

    /** The full name of the gRPC method, {@code package.Service/Method}. */
    public String method() {
        return method;
    }

    private static String message(How how, String method) {
        return switch (how) {
            case COMPLETED -> "gRPC call " + method + " completed";
            case CANCELLED -> "gRPC call " + method + " was cancelled by the client or lost with its connection";
            case DEADLINE_PASSED -> "gRPC deadline of call " + method + " passed";
        };
    }
}
