package dev.tether.wire;

/**
 * The names of the headers Tether reads and writes, in lower case (HTTP/2 and gRPC metadata require it; HTTP/1.1
 * compares names case-insensitively). gRPC carries the same names as metadata keys.
 *
 * <p>The grammar of each value is in docs/wire.md; the classes of this package encode and check them.
 */
public final class WireHeaders {

    /** Request: the caller's remaining budget for this call, in {@link GrpcTimeout} syntax ({@code 250m}). */
    public static final String BUDGET = "tether-budget";

    /** Request: who set the deadline the budget counts down to, as {@link DeadlineOrigin#headerValue()}. */
    public static final String ORIGIN = "tether-deadline-origin";

    /** Response header or trailer: why the request ended early, as {@link EndedEarly#headerValue()}. */
    public static final String ENDED = "tether-ended";

    /**
     * Reserved for messages that wait in queues, where a relative budget goes stale: the absolute deadline in
     * milliseconds since the epoch ({@link DeadlineAt}). Request/response transports do not send it.
     */
    public static final String DEADLINE_AT = "tether-deadline-at";

    /** gRPC's request deadline, relative, in {@link GrpcTimeout} syntax. */
    public static final String GRPC_TIMEOUT = "grpc-timeout";

    /** Envoy's timeout for the request it forwards upstream, in whole milliseconds. */
    public static final String ENVOY_TIMEOUT = "x-envoy-expected-rq-timeout-ms";

    /**
     * Finagle's deadline context over HTTP: two numbers of nanoseconds since the epoch, when the deadline was set
     * and when it passes, separated by one space. Absolute, so it is only as good as the two clocks agree.
     */
    public static final String FINAGLE_DEADLINE = "finagle-ctx-com.twitter.finagle.deadline";

    private WireHeaders() {
    }
}
