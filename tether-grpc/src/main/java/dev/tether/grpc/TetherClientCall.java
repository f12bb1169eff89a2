package dev.tether.grpc;

import dev.tether.Context;
import dev.tether.ContextDoneException;
import dev.tether.DeadlineExceededException;
import dev.tether.Registration;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.EndedEarly;
import dev.tether.wire.PeerEndedException;
import dev.tether.wire.WireHeaders;
import io.grpc.ClientCall;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.jspecify.annotations.Nullable;

/**
 * One intercepted call: sends the origin, cancels the call when the caller's context ends, and sets the cause of
 * the status it ends with.
 *
 * <p>Implementation overview. Cancellation goes through {@code grpcContext}, an {@code io.grpc.Context} made for
 * this call alone and current when gRPC made the call: gRPC watches it and cancels the stream from whatever
 * thread cancels it, which {@link ClientCall#cancel} (not thread-safe) would not allow. The context's
 * {@code onDone} action runs on the thread that ends the Tether context and does only that cancel. When the call
 * closes, the registration is stopped and {@code grpcContext} cancelled without a cause, which releases its link
 * to any enclosing {@code io.grpc.Context}: nothing outlives the call.
 */
final class TetherClientCall<ReqT, RespT> extends ForwardingClientCall.SimpleForwardingClientCall<ReqT, RespT> {

    private final Context ctx;
    private final io.grpc.Context.CancellableContext grpcContext;
    private final @Nullable DeadlineOrigin origin;
    private final String authority;
    private final String method;
    /** The deadline sent, when it came from the context's budget; -1 when the call's own deadline was earlier. */
    private final long budgetNanos;
    private final long reserveNanos;
    // Written by start() before the call can close, read by onClose on gRPC's executor after it.
    private volatile @Nullable Registration registration;

    TetherClientCall(ClientCall<ReqT, RespT> delegate, Context ctx, io.grpc.Context.CancellableContext grpcContext,
            @Nullable DeadlineOrigin origin, String authority, String method, long budgetNanos, long reserveNanos) {
        super(delegate);
        this.ctx = ctx;
        this.grpcContext = grpcContext;
        this.origin = origin;
        this.authority = authority;
        this.method = method;
        this.budgetNanos = budgetNanos;
        this.reserveNanos = reserveNanos;
    }

    @Override
    public void start(Listener<RespT> responseListener, Metadata headers) {
        // Whatever the application put there is replaced: the origin is a claim about the deadline sent.
        headers.discardAll(GrpcKeys.ORIGIN);
        if (origin != null) {
            headers.put(GrpcKeys.ORIGIN, origin.headerValue());
        }
        registration = ctx.onDone(this::contextDone, Runnable::run);
        try {
            super.start(new ClosingListener(responseListener), headers);
        } catch (RuntimeException | Error e) {
            release();
            throw e;
        }
    }

    private void contextDone() {
        ContextDoneException err = ctx.err();
        if (err == null) {
            return;   // cannot happen: onDone runs after the context is done
        }
        // A status exception as the cause makes gRPC close the call with this code rather than plain CANCELLED.
        grpcContext.cancel(new StatusRuntimeException(Status.fromCode(GrpcKeys.codeOf(err))
                .withDescription("the caller's context is done: " + err.getMessage()).withCause(err)));
    }

    private void release() {
        Registration r = registration;
        if (r != null) {
            r.stop();
        }
        grpcContext.cancel(null);
    }

    Status translate(Status status, Metadata trailers) {
        if (status.isOk()) {
            return status;
        }
        ContextDoneException local = ctx.err();
        String ended = trailers.get(GrpcKeys.ENDED);
        Status.Code code = status.getCode();
        if (local != null
                && (ended != null || code == Status.Code.CANCELLED || code == Status.Code.DEADLINE_EXCEEDED)) {
            // The caller's own context ended: that is what the caller must hear. A server's tether-ended now is
            // most likely its echo of our cancel (a transport may deliver the server's close before our cancel's).
            return Status.fromCode(GrpcKeys.codeOf(local)).withDescription(status.getDescription()).withCause(local);
        }
        if (ended != null) {
            return status.withCause(new PeerEndedException(peer(), readEnded(ended, status), null));
        }
        if (code == Status.Code.DEADLINE_EXCEEDED && budgetNanos >= 0) {
            String why = "deadline of " + peer() + " passed: a budget of " + Durations.format(budgetNanos)
                    + " from the caller's context, less the per-hop reserve " + Durations.format(reserveNanos)
                    + TetherClientInterceptor.originSuffix(origin);
            return status.withCause(new DeadlineExceededException(why, status.getCause()));
        }
        return status;
    }

    /** Whom the call went to, for messages: made only when a call fails. */
    private String peer() {
        return authority + "/" + method;
    }

    private static EndedEarly readEnded(String value, Status status) {
        try {
            return EndedEarly.parse(value);
        } catch (IllegalArgumentException e) {
            EndedEarly.Kind kind = status.getCode() == Status.Code.DEADLINE_EXCEEDED
                    ? EndedEarly.Kind.DEADLINE_EXCEEDED : EndedEarly.Kind.CANCELLED;
            // The parser's message is bounded and names the problem; the value itself is not repeated.
            return new EndedEarly(kind, "unreadable " + WireHeaders.ENDED + " trailer: " + e.getMessage());
        }
    }

    private final class ClosingListener extends ForwardingClientCallListener.SimpleForwardingClientCallListener<RespT> {

        ClosingListener(ClientCall.Listener<RespT> delegate) {
            super(delegate);
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
            release();
            super.onClose(translate(status, trailers), trailers);
        }
    }
}
