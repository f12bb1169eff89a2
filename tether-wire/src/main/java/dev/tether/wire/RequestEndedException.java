package dev.tether.wire;

import java.util.Objects;

/**
 * The cause a server integration cancels a request's context with when the request ends for a reason of the
 * transport's rather than the handler's: the client went away, or the response was completed. Code under the
 * context sees it as {@code ctx.cause()}:
 *
 * {@snippet :
 * if (ctx.cause() instanceof RequestEndedException e && e.why() == RequestEndedException.Why.CLIENT_DISCONNECTED) {
 *     metrics.abandoned();
 * }
 * }
 *
 * <p>Carries no stack trace: where the transport noticed is not the story, the message is.
 */
public final class RequestEndedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Why the request ended. */
    public enum Why {
        /** The client closed the connection or reset the stream before the response was complete. */
        CLIENT_DISCONNECTED,
        /** The response was completed: the request's work is over, and what it started should stop. */
        RESPONSE_COMPLETED
    }

    /** The one cause every completed response is cancelled with; sharing it costs no allocation per request. */
    static final RequestEndedException COMPLETED = new RequestEndedException(Why.RESPONSE_COMPLETED,
            "response completed");

    private final Why why;

    private RequestEndedException(Why why, String message) {
        // No suppression and no stack trace: instances may be shared and are thrown only as causes.
        super(message, null, false, false);
        this.why = why;
    }

    /**
     * The client went away; {@code detail} says how the transport noticed (sanitized, since it may quote a peer).
     *
     * @throws NullPointerException if detail is null
     */
    public static RequestEndedException clientDisconnected(String detail) {
        Objects.requireNonNull(detail, "detail");
        return new RequestEndedException(Why.CLIENT_DISCONNECTED,
                "client disconnected: " + EndedEarly.sanitize(detail));
    }

    /** The shared cause for a completed response. */
    public static RequestEndedException responseCompleted() {
        return COMPLETED;
    }

    /** Why the request ended. */
    public Why why() {
        return why;
    }
}
