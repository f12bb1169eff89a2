package dev.tether.grpc;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ContextDoneException;
import dev.tether.DeadlineExceededException;
import dev.tether.Scope;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.EndedEarly;
import dev.tether.wire.InboundCall;
import dev.tether.wire.RequestEndedException;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * One server call joined to its Tether request context: the call the handler sees (serialized, so the request
 * context can close it from another thread) and the listener gRPC sees (binding both contexts for every callback).
 *
 * <p>Implementation overview. Three things can end a request, on three kinds of thread:
 * <ul>
 *   <li>the handler closes the call (its own thread): {@link #close} adds {@code tether-ended} if the request
 *       context had ended early;</li>
 *   <li>the request context ends first, by its deadline or its parent (the timer thread, or whoever cancels the
 *       parent): {@link #contextDone} cancels the handler's {@code io.grpc.Context}, closes the call with the
 *       context's status and {@code tether-ended}, and interrupts the handler if configured to;</li>
 *   <li>gRPC ends the call (a transport thread): the call's {@code io.grpc.Context} is cancelled, and its
 *       listener records how in {@code grpcEnd} and cancels the request context with a cause saying so. A
 *       request context
 *       ended that way has nothing left to tell the client, so {@link #contextDone} then does nothing.</li>
 * </ul>
 * {@code ServerCall} is not thread-safe, so every method that reaches it holds this object's monitor, and the
 * {@code closed} flag makes the first close win: after the request context closed the call, a late answer from
 * the handler is dropped, as the response of a timed-out HTTP handler is. The monitor is held only around
 * {@code ServerCall} methods, which do not block (with a client on a direct executor over the in-process
 * transport, gRPC may run that client's callbacks inside them).
 * The request context and the handler's {@code io.grpc.Context} are both children of what the call ends with, so
 * both are released when it ends.
 */
final class ServerCallBridge<ReqT, RespT> extends ForwardingServerCall.SimpleForwardingServerCall<ReqT, RespT> {

    private enum GrpcEnd { COMPLETED, CANCELLED, DEADLINE_PASSED }

    private final CancellableContext request;
    private final Context bound;
    private final io.grpc.Context.CancellableContext grpcContext;
    private final @Nullable HandlerInterrupter interrupter;
    private final String method;
    /** The request's budget and who set its deadline, for the reason sent when it passes. */
    private final long budgetNanos;
    private final @Nullable DeadlineOrigin origin;
    /** How gRPC ended the call, if it did; written before the request context is cancelled for it. */
    private volatile @Nullable GrpcEnd grpcEnd;
    private boolean closed;          // guarded by this
    private volatile boolean closedEarly;

    ServerCallBridge(ServerCall<ReqT, RespT> call, CancellableContext request, Context bound,
            io.grpc.Context.CancellableContext grpcContext, @Nullable HandlerInterrupter interrupter,
            long budgetNanos, @Nullable DeadlineOrigin origin) {
        super(call);
        this.budgetNanos = budgetNanos;
        this.origin = origin;
        this.request = request;
        this.bound = bound;
        this.grpcContext = grpcContext;
        this.interrupter = interrupter;
        this.method = call.getMethodDescriptor().getFullMethodName();
    }

    /** Wires the three ends together and starts the handler under both contexts. */
    ServerCall.Listener<ReqT> start(io.grpc.Context callContext, ServerCallHandler<ReqT, RespT> next,
            Metadata headers) {
        callContext.addListener(this::grpcEnded, Runnable::run);
        request.onDone(this::contextDone, Runnable::run);
        if (request.isDone()) {
            // Ended before the handler started (a parent shutting down, a budget gone): it never runs.
            return new ServerCall.Listener<>() {
            };
        }
        ServerCall.Listener<ReqT>[] listener = newListenerHolder();
        inContext(() -> listener[0] = next.startCall(this, headers), true);
        return listener[0] == null ? new ServerCall.Listener<>() {
        } : new BoundListener(listener[0]);
    }

    @SuppressWarnings("unchecked")
    private ServerCall.Listener<ReqT>[] newListenerHolder() {
        return (ServerCall.Listener<ReqT>[]) new ServerCall.Listener<?>[1];
    }

    private void grpcEnded(io.grpc.Context callContext) {
        Throwable cause = callContext.cancellationCause();
        // The same causes as Tether's HTTP servers give, so code under the context reads them alike.
        if (cause == null) {
            grpcEnd = GrpcEnd.COMPLETED;
            request.cancel(RequestEndedException.responseCompleted());
        } else if (cause instanceof TimeoutException) {
            grpcEnd = GrpcEnd.DEADLINE_PASSED;
            request.cancel(new DeadlineExceededException("gRPC deadline of call " + method + " passed", cause));
        } else {
            grpcEnd = GrpcEnd.CANCELLED;
            request.cancel(RequestEndedException.clientDisconnected(
                    "gRPC call " + method + " cancelled by the client or lost with its connection"));
        }
    }

    private void contextDone() {
        ContextDoneException err = request.err();
        if (err == null) {
            return;   // cannot happen: onDone runs after the context is done
        }
        GrpcEnd end = grpcEnd;
        if (end != null) {
            // The call is over: nobody is listening for a status. A handler still working for a client that
            // went away is interrupted; one finishing a completed call is left alone.
            if (end != GrpcEnd.COMPLETED) {
                interruptHandler();
            }
            return;
        }
        EndedEarly ended = ended(err);
        Status status = Status.fromCode(GrpcKeys.codeOf(err)).withDescription(describe(ended));
        // A status exception as the cause, so Contexts.statusFromCancelled reads the right code.
        grpcContext.cancel(new StatusRuntimeException(status.withCause(err)));
        synchronized (this) {
            if (!closed) {
                closed = true;
                closedEarly = true;
                Metadata trailers = new Metadata();
                trailers.put(GrpcKeys.ENDED, ended.headerValue());
                closeQuietly(status, trailers);
            }
        }
        interruptHandler();
    }

    private void interruptHandler() {
        HandlerInterrupter i = interrupter;
        if (i != null) {
            i.fire();
        }
    }

    // Called with the monitor held.
    private void closeQuietly(Status status, Metadata trailers) {
        try {
            super.close(status, trailers);
        } catch (IllegalStateException e) {
            // gRPC closed the stream itself meanwhile (a transport failure): there is no one left to tell.
        }
    }

    /** Why the request ended; for its own deadline, with the budget it had and who set it. */
    private EndedEarly ended(ContextDoneException err) {
        if (err instanceof DeadlineExceededException && err.getCause() == null) {
            return new EndedEarly(EndedEarly.Kind.DEADLINE_EXCEEDED, err.getMessage() + " (budget "
                    + Durations.format(budgetNanos) + TetherClientInterceptor.originSuffix(origin) + ")");
        }
        return EndedEarly.of(err);
    }

    private static String describe(EndedEarly ended) {
        return "the request's context ended: " + ended;
    }

    @Override
    public synchronized void close(Status status, Metadata trailers) {
        if (closed) {
            return;   // the request context answered already
        }
        closed = true;
        super.close(status.isOk() ? status : endedEarly(status, trailers), trailers);
    }

    /**
     * The status to send for a handler's failure, with {@code tether-ended} saying why when a context ended: the
     * request's own (it ended early), one a call the handler made reported (passed on, one hop further up), or one
     * of the handler's own (a tighter local timeout). A trailer the handler wrote itself is kept otherwise.
     */
    private Status endedEarly(Status status, Metadata trailers) {
        ContextDoneException err = request.err();
        Throwable cause = status.getCause();
        EndedEarly ended;
        if (err != null && grpcEnd == null) {
            ended = ended(err);
        } else if (cause != null && InboundCall.endedBy(cause) instanceof EndedEarly relayed) {
            // The same reading as Tether's HTTP servers: a downstream's PeerEndedException or a context's error.
            ended = relayed;
        } else {
            return status;
        }
        trailers.discardAll(GrpcKeys.ENDED);
        trailers.put(GrpcKeys.ENDED, ended.headerValue());
        // UNKNOWN is what gRPC makes of an exception; the kind says more. A status the handler chose stays.
        return status.getCode() == Status.Code.UNKNOWN
                ? Status.fromCode(GrpcKeys.codeOf(ended.kind())).withDescription(describe(ended)).withCause(cause)
                : status;
    }

    @Override
    public boolean isCancelled() {
        return closedEarly || super.isCancelled();
    }

    @Override
    public synchronized void sendHeaders(Metadata headers) {
        if (!closed) {
            super.sendHeaders(headers);
        }
    }

    @Override
    public synchronized void sendMessage(RespT message) {
        if (!closed) {
            super.sendMessage(message);
        }
    }

    @Override
    public synchronized boolean isReady() {
        return !closed && super.isReady();
    }

    @Override
    public synchronized void setMessageCompression(boolean enabled) {
        super.setMessageCompression(enabled);
    }

    @Override
    public synchronized void setCompression(String compressor) {
        super.setCompression(compressor);
    }

    @Override
    public synchronized void setOnReadyThreshold(int numBytes) {
        super.setOnReadyThreshold(numBytes);
    }

    /**
     * A handler that gives up because a context ended (it throws a context's error, or anything caused by one,
     * or a call it made ended early downstream) has answered, not crashed: the call closes with the matching
     * status and {@code tether-ended}, as if it had passed the exception to {@code onError}; when the call is over
     * already (the request context closed it, or the client went away) there is no one to answer. Anything else
     * goes on to gRPC.
     */
    private void handlerFailed(RuntimeException e) {
        boolean rethrow;
        synchronized (this) {
            if (closedEarly) {
                rethrow = false;
            } else if (grpcEnd != null && GrpcKeys.findDone(e) != null) {
                closed = true;    // the call is over: the handler noticed, and there is no one to answer
                rethrow = false;
            } else if (!closed && InboundCall.endedBy(e) != null) {
                close(Status.UNKNOWN.withCause(e), new Metadata());
                rethrow = false;
            } else {
                // gRPC closes the stream itself for an escaping exception; ours must not close it again.
                closed = true;
                rethrow = true;
            }
        }
        if (rethrow) {
            throw e;
        }
    }

    /**
     * Runs one callback with the request context and the handler's io.grpc.Context bound. A callback that starts
     * work ({@code startCall}, a message, the half-close, readiness) is skipped once the request context is done,
     * as gRPC skips them on a cancelled call: the call is closed or closing, and a handler started now would run
     * under a context that ended before it began, where no interrupt would ever reach it. {@code onCancel} and
     * {@code onComplete} always run.
     */
    void inContext(Runnable callback, boolean startsWork) {
        io.grpc.Context previous = grpcContext.attach();
        Scope scope = bound.attach();
        try {
            HandlerInterrupter i = interrupter;
            if (i != null) {
                i.enter();   // before the check: a fire() after it interrupts the callback, one before it is seen
            }
            try {
                if (!startsWork || !request.isDone()) {
                    callback.run();
                }
            } catch (RuntimeException e) {
                handlerFailed(e);
            } finally {
                if (i != null) {
                    i.exit();
                }
            }
        } finally {
            scope.close();
            grpcContext.detach(previous);
        }
    }

    private final class BoundListener extends ForwardingServerCallListener.SimpleForwardingServerCallListener<ReqT> {

        BoundListener(ServerCall.Listener<ReqT> delegate) {
            super(delegate);
        }

        @Override
        public void onMessage(ReqT message) {
            inContext(() -> super.onMessage(message), true);
        }

        @Override
        public void onHalfClose() {
            inContext(super::onHalfClose, true);
        }

        @Override
        public void onCancel() {
            inContext(super::onCancel, false);
        }

        @Override
        public void onComplete() {
            inContext(super::onComplete, false);
        }

        @Override
        public void onReady() {
            inContext(super::onReady, true);
        }
    }
}
