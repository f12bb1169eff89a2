package dev.tether.jetty;

import dev.tether.ContextDoneException;
import dev.tether.wire.EndedEarly;
import dev.tether.wire.InboundCall;
import dev.tether.wire.RequestEndedException;
import dev.tether.wire.WireHeaders;
import java.nio.ByteBuffer;
import java.util.Objects;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.jspecify.annotations.Nullable;

/**
 * One request between {@link TetherHandler} and the handler it wraps: the response and callback the wrapped handler
 * sees, and the one place that decides who answers.
 *
 * <p>Implementation overview. {@link InboundCall} decides, once, whether the handler completes the call or the call
 * ends early; the winner owns the real response and callback. What remains is to keep the loser's hands off them.
 * The wrapped handler reaches the real response only through {@link GuardedResponse}, whose writes check the call
 * under {@code lock} and start the real write inside it; the early answer, after the call has ended, reads
 * {@code isCommitted()} under the same lock. So a handler write either started before the early answer looked (the
 * response is committed and gets aborted) or is refused (its callback fails with the context's error). Once the
 * call has ended, the handler's status and header changes go to a detached copy, and its callback is ignored.
 */
final class Exchange {

    private static final System.Logger LOG = System.getLogger(TetherHandler.class.getName());

    private final InboundCall call;
    private final Request request;
    private final Response response;
    private final Callback callback;
    private final TetherHandler.Fallback fallback;
    private final GuardedResponse guarded;
    private final HandlerCallback handlerCallback = new HandlerCallback();
    // Orders the handler's writes against the early answer's look at the response (class comment).
    private final Object lock = new Object();
    // Set under lock by a refused write; read by the handler's callback, which must not complete a cut response.
    private boolean refusedWrites;

    Exchange(InboundCall call, Request request, Response response, Callback callback, TetherHandler.Fallback fallback) {
        this.call = call;
        this.request = request;
        this.response = response;
        this.callback = callback;
        this.fallback = fallback;
        this.guarded = new GuardedResponse(request, response);
    }

    Response response() {
        return guarded;
    }

    Callback callback() {
        return handlerCallback;
    }

    /** Jetty's request failure listener: over HTTP/2, the client reset the stream or the connection failed. */
    void transportFailed(Throwable failure) {
        call.cancel(RequestEndedException.clientDisconnected(describe(failure)));
    }

    /** The call ended early (onEndedEarly action, on its own virtual thread): answer now, or abort. */
    void endedEarly(InboundCall ended) {
        Throwable cause = ended.context().cause();
        ContextDoneException err = Objects.requireNonNull(ended.context().err());
        boolean committed;
        synchronized (lock) {
            committed = response.isCommitted();
        }
        if (cause instanceof RequestEndedException r && r.why() == RequestEndedException.Why.CLIENT_DISCONNECTED) {
            callback.failed(err); // nobody is listening: release the exchange
            return;
        }
        if (committed) {
            callback.failed(err); // a cut body must not look whole: abort the stream or connection
            return;
        }
        try {
            response.reset();
            fallback.answer(request, response, callback, Objects.requireNonNull(ended.endedEarly()));
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.WARNING, "fallback failed for " + ended.self(), t);
            callback.failed(err);
        }
    }

    /** The wrapped handler threw, or failed its callback. */
    void handlerFailed(Throwable failure) {
        if (!call.fail(failure)) {
            return; // the call ended first; its answer says why, and this is a consequence
        }
        EndedEarly ended = InboundCall.endedBy(failure);
        if (ended == null) {
            LOG.log(System.Logger.Level.WARNING, "handler failed: " + call.self(), failure);
        } else {
            LOG.log(System.Logger.Level.DEBUG, "{0} ended: {1}", call.self(), ended);
        }
        boolean committed;
        synchronized (lock) {
            committed = response.isCommitted();
        }
        if (committed) {
            callback.failed(failure);
            return;
        }
        try {
            response.reset();
            answer(response, InboundCall.httpStatus(failure), ended, callback);
        } catch (Throwable t) {
            callback.failed(failure);
        }
    }

    static void defaultAnswer(Request request, Response response, Callback callback, EndedEarly ended) {
        answer(response, ended.kind() == EndedEarly.Kind.DEADLINE_EXCEEDED ? 504 : 503, ended, callback);
    }

    /** A short text answer: the status line and the reason, never a stack trace. */
    private static void answer(Response response, int status, @Nullable EndedEarly ended, Callback callback) {
        response.setStatus(status);
        HttpFields.Mutable headers = response.getHeaders();
        headers.put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
        headers.put(HttpHeader.CACHE_CONTROL, "no-store");
        String body = status + " " + reasonPhrase(status);
        if (ended != null) {
            headers.put(WireHeaders.ENDED, ended.headerValue());
            body += ": " + ended;
        }
        Content.Sink.write(response, true, body + "\n", callback);
    }

    private static String reasonPhrase(int status) {
        return switch (status) {
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            case 504 -> "Gateway Timeout";
            default -> "Internal Server Error";
        };
    }

    static String describe(Throwable failure) {
        String message = failure.getMessage();
        return message == null ? failure.getClass().getSimpleName()
                : failure.getClass().getSimpleName() + ": " + message;
    }

    /** Why a handler write is refused, or null if it may go ahead. Called under lock. */
    private @Nullable Throwable refusal() {
        ContextDoneException err = call.context().err();
        if (err != null) {
            return err;
        }
        return call.isEnded() ? new IllegalStateException("response already completed") : null;
    }

    /** The response the wrapped handler writes to. */
    private final class GuardedResponse extends Response.Wrapper {

        GuardedResponse(Request request, Response wrapped) {
            super(request, wrapped);
        }

        @Override
        public void write(boolean last, ByteBuffer content, Callback writeCallback) {
            Throwable refused;
            synchronized (lock) {
                refused = refusal();
                if (refused == null) {
                    super.write(last, content, new WriteCallback(writeCallback));
                    return;
                }
                refusedWrites = true;
            }
            writeCallback.failed(refused);
        }

        @Override
        public void setStatus(int code) {
            if (!call.isEnded()) {
                super.setStatus(code);
            }
        }

        @Override
        public HttpFields.Mutable getHeaders() {
            // After the call ended the real headers belong to whoever answered; late changes go nowhere.
            return call.isEnded() ? HttpFields.build() : super.getHeaders();
        }

        @Override
        public void reset() {
            if (!call.isEnded()) {
                super.reset();
            }
        }
    }

    /** Completes the handler's write; a failed write is how HTTP/1.1 tells that the client went away. */
    private final class WriteCallback implements Callback {
        private final Callback delegate;

        WriteCallback(Callback delegate) {
            this.delegate = delegate;
        }

        @Override
        public void succeeded() {
            delegate.succeeded();
        }

        @Override
        public void failed(Throwable failure) {
            if (!call.isEnded()) {
                call.cancel(RequestEndedException.clientDisconnected("write failed: " + describe(failure)));
            }
            delegate.failed(failure);
        }

        @Override
        public InvocationType getInvocationType() {
            return delegate.getInvocationType();
        }
    }

    /** The callback the wrapped handler completes. */
    private final class HandlerCallback implements Callback {

        @Override
        public void succeeded() {
            boolean cut;
            synchronized (lock) {
                cut = refusedWrites;
            }
            if (cut) {
                // Some of the response was refused: completing it would make a cut body look whole.
                ContextDoneException err = call.context().err();
                handlerFailed(err != null ? err : new IllegalStateException("response cut"));
                return;
            }
            if (call.complete()) {
                callback.succeeded();
            }
        }

        @Override
        public void failed(Throwable failure) {
            handlerFailed(failure);
        }

        @Override
        public InvocationType getInvocationType() {
            return callback.getInvocationType();
        }
    }
}
