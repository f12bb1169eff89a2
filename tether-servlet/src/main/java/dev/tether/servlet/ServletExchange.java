package dev.tether.servlet;

import dev.tether.ContextDoneException;
import dev.tether.wire.EndedEarly;
import dev.tether.wire.InboundCall;
import dev.tether.wire.RequestEndedException;
import dev.tether.wire.WireHeaders;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * One request between {@link TetherFilter} and the rest of the chain.
 *
 * <p>Implementation overview. {@link InboundCall} decides once whether the chain completes the call or the call
 * ends early; the winner owns the real response. The chain reaches the real response only through
 * {@link GuardedResponse}, whose every write and header change checks the call and goes ahead under {@code lock};
 * the early answer resets and writes the real response under the same lock. So the two never interleave: a chain
 * write either happened before the early answer looked (and if it committed the response, the answer becomes an
 * abort) or is refused. The guarded writer uses {@code lock} as its own PrintWriter lock, so that both sides take
 * {@code lock} before any of the container's own locks.
 *
 * <p>A synchronous request thread that returns while the call is ending early waits for the early answer before
 * it hands the response back to the container (which would otherwise complete it empty), and throws if the answer
 * found the response committed, so that the container aborts it.
 */
final class ServletExchange {

    private static final System.Logger LOG = System.getLogger(TetherFilter.class.getName());
    private static final long EARLY_ANSWER_WAIT_SECONDS = 10;

    private final InboundCall call;
    private final HttpServletRequest request;
    private final HttpServletResponse response;
    private final TetherFilter.Fallback fallback;
    private final @Nullable Consumer<? super InboundCall> observer;
    private final GuardedResponse guarded;
    // Orders the chain's writes and header changes against the early answer (class comment).
    private final Object lock = new Object();
    // Written under lock by a refused write; read by the request thread once the chain has returned.
    private boolean refusedWrites;
    private final CountDownLatch earlyAnswered = new CountDownLatch(1);
    // Written by the early answer before it counts down earlyAnswered; read by the request thread after awaiting it.
    private volatile boolean earlyAborted;

    ServletExchange(InboundCall call, HttpServletRequest request, HttpServletResponse response,
            TetherFilter.Fallback fallback, @Nullable Consumer<? super InboundCall> observer) {
        this.call = call;
        this.request = request;
        this.response = response;
        this.fallback = fallback;
        this.observer = observer;
        this.guarded = new GuardedResponse(response);
    }

    /** Runs the chain on the request's thread and settles how the call ended before returning to the container. */
    void run(FilterChain chain) throws IOException, ServletException {
        Throwable failure = null;
        boolean admitted = false;
        try (InboundCall.Entered entered = call.enter()) {
            admitted = entered.admitted();
            if (admitted) {
                chain.doFilter(request, guarded);
            }
        } catch (Throwable t) {
            failure = t;
        }
        if (!admitted) {
            // Ended before it began (no budget left, or a cancelled server): the early answer is on its way.
            awaitEarlyAnswer();
            observe();
            return;
        }
        if (failure == null && request.isAsyncStarted()) {
            wentAsync();
            return;
        }
        if (failure != null) {
            if (call.fail(failure)) {
                answerFailure(failure);
                observe();
                return;
            }
        } else {
            boolean cut;
            synchronized (lock) {
                cut = refusedWrites;
            }
            if (!cut && call.complete()) {
                observe();
                return;
            }
        }
        // The call ended (or is ending) early: its answer is written on another thread; wait for it.
        awaitEarlyAnswer();
        observe();
        if (earlyAborted) {
            ContextDoneException err = call.context().err();
            throw new IOException("response cut: the request ended early after it was committed", err);
        }
    }

    private void wentAsync() {
        request.getAsyncContext().addListener(new AsyncListener() {
            @Override
            public void onComplete(AsyncEvent event) {
                call.complete(); // false if it ended early or failed: then this only reports it
                observe();
            }

            @Override
            public void onTimeout(AsyncEvent event) {
                call.fail(new java.util.concurrent.TimeoutException("servlet async timeout"));
            }

            @Override
            public void onError(AsyncEvent event) {
                Throwable t = event.getThrowable();
                call.cancel(RequestEndedException.clientDisconnected(t == null ? "async error" : describe(t)));
            }

            @Override
            public void onStartAsync(AsyncEvent event) {
                // A re-dispatch keeps the same call.
            }
        });
    }

    /** The call ended early (onEndedEarly action, on its own virtual thread): answer now, or mark for abort. */
    void endedEarly(InboundCall ended) {
        try {
            Throwable cause = ended.context().cause();
            if (cause instanceof RequestEndedException r && r.why() == RequestEndedException.Why.CLIENT_DISCONNECTED) {
                earlyAborted = true; // nobody is listening
                completeAsync();
                return;
            }
            EndedEarly what = java.util.Objects.requireNonNull(ended.endedEarly());
            synchronized (lock) {
                if (response.isCommitted()) {
                    earlyAborted = true;
                    return;
                }
                response.reset();
                fallback.answer(request, response, what);
            }
            completeAsync();
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.WARNING, "early answer failed for " + ended.self(), t);
            earlyAborted = true;
        } finally {
            earlyAnswered.countDown();
        }
    }

    private void completeAsync() {
        if (request.isAsyncStarted()) {
            request.getAsyncContext().complete();
        }
    }

    private void awaitEarlyAnswer() {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    if (!earlyAnswered.await(EARLY_ANSWER_WAIT_SECONDS, TimeUnit.SECONDS)) {
                        earlyAborted = true;
                        LOG.log(System.Logger.Level.WARNING, "early answer not written within "
                                + EARLY_ANSWER_WAIT_SECONDS + " s for " + call.self());
                    }
                    return;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void answerFailure(Throwable failure) throws IOException, ServletException {
        EndedEarly ended = InboundCall.endedBy(failure);
        if (ended == null) {
            LOG.log(System.Logger.Level.WARNING, "handler failed: " + call.self(), failure);
        } else {
            LOG.log(System.Logger.Level.DEBUG, "{0} ended: {1}", call.self(), ended);
        }
        synchronized (lock) {
            if (!response.isCommitted()) {
                response.reset();
                answer(response, InboundCall.httpStatus(failure), ended);
                return;
            }
        }
        // Committed: the container must abort what it cannot turn into an error.
        if (failure instanceof IOException io) {
            throw io;
        }
        if (failure instanceof ServletException se) {
            throw se;
        }
        if (failure instanceof RuntimeException re) {
            throw re;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        throw new ServletException(failure);
    }

    /** A short text answer with a Content-Length, so the container sends it whole at once: never a stack trace. */
    static void answer(HttpServletResponse response, int status, @Nullable EndedEarly ended) throws IOException {
        response.setStatus(status);
        response.setContentType("text/plain; charset=utf-8");
        response.setHeader("Cache-Control", "no-store");
        String body = status + " " + switch (status) {
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            case 504 -> "Gateway Timeout";
            default -> "Internal Server Error";
        };
        if (ended != null) {
            response.setHeader(WireHeaders.ENDED, ended.headerValue());
            body += ": " + ended;
        }
        byte[] bytes = (body + "\n").getBytes(StandardCharsets.UTF_8);
        response.setContentLength(bytes.length);
        ServletOutputStream out = response.getOutputStream();
        out.write(bytes);
        out.flush();
    }

    private void observe() {
        if (observer != null) {
            try {
                observer.accept(call);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "observer failed", e);
            }
        }
    }

    static String describe(Throwable failure) {
        String message = failure.getMessage();
        return message == null ? failure.getClass().getSimpleName()
                : failure.getClass().getSimpleName() + ": " + message;
    }

    /** Why a chain write is refused, or null if it may go ahead. Called under lock. */
    private @Nullable ContextDoneException refusal() {
        return call.isEnded() || call.context().isDone() ? call.context().err() : null;
    }

    private IOException refused(ContextDoneException err) {
        refusedWrites = true;
        return new IOException("request ended: " + err.getMessage(), err);
    }

    private void writeFailed(IOException failure) {
        if (!call.isEnded()) {
            call.cancel(RequestEndedException.clientDisconnected("write failed: " + describe(failure)));
        }
    }

    /** The response the chain sees: writes and header changes checked under the lock. */
    private final class GuardedResponse extends HttpServletResponseWrapper {
        private @Nullable GuardedOutputStream stream;
        private @Nullable GuardedWriter writer;

        GuardedResponse(HttpServletResponse wrapped) {
            super(wrapped);
        }

        @Override
        public ServletOutputStream getOutputStream() throws IOException {
            synchronized (lock) {
                if (stream == null) {
                    stream = new GuardedOutputStream(super.getOutputStream());
                }
                return stream;
            }
        }

        @Override
        public PrintWriter getWriter() throws IOException {
            synchronized (lock) {
                if (writer == null) {
                    writer = new GuardedWriter(super.getWriter());
                }
                return writer;
            }
        }

        @Override
        public void flushBuffer() throws IOException {
            synchronized (lock) {
                ContextDoneException err = refusal();
                if (err != null) {
                    throw refused(err);
                }
                try {
                    super.flushBuffer();
                } catch (IOException e) {
                    writeFailed(e);
                    throw e;
                }
            }
        }

        private boolean open() {
            return !call.isEnded();
        }

        @Override
        public void setStatus(int sc) {
            synchronized (lock) {
                if (open()) {
                    super.setStatus(sc);
                }
            }
        }

        @Override
        public void sendError(int sc, String msg) throws IOException {
            synchronized (lock) {
                if (open()) {
                    super.sendError(sc, msg);
                }
            }
        }

        @Override
        public void sendError(int sc) throws IOException {
            synchronized (lock) {
                if (open()) {
                    super.sendError(sc);
                }
            }
        }

        @Override
        public void sendRedirect(String location) throws IOException {
            synchronized (lock) {
                if (open()) {
                    super.sendRedirect(location);
                }
            }
        }

        @Override
        public void setHeader(String name, String value) {
            synchronized (lock) {
                if (open()) {
                    super.setHeader(name, value);
                }
            }
        }

        @Override
        public void addHeader(String name, String value) {
            synchronized (lock) {
                if (open()) {
                    super.addHeader(name, value);
                }
            }
        }

        @Override
        public void setIntHeader(String name, int value) {
            synchronized (lock) {
                if (open()) {
                    super.setIntHeader(name, value);
                }
            }
        }

        @Override
        public void addIntHeader(String name, int value) {
            synchronized (lock) {
                if (open()) {
                    super.addIntHeader(name, value);
                }
            }
        }

        @Override
        public void setDateHeader(String name, long date) {
            synchronized (lock) {
                if (open()) {
                    super.setDateHeader(name, date);
                }
            }
        }

        @Override
        public void addDateHeader(String name, long date) {
            synchronized (lock) {
                if (open()) {
                    super.addDateHeader(name, date);
                }
            }
        }

        @Override
        public void setContentType(String type) {
            synchronized (lock) {
                if (open()) {
                    super.setContentType(type);
                }
            }
        }

        @Override
        public void setContentLength(int len) {
            synchronized (lock) {
                if (open()) {
                    super.setContentLength(len);
                }
            }
        }

        @Override
        public void setContentLengthLong(long len) {
            synchronized (lock) {
                if (open()) {
                    super.setContentLengthLong(len);
                }
            }
        }

        @Override
        public void setCharacterEncoding(String charset) {
            synchronized (lock) {
                if (open()) {
                    super.setCharacterEncoding(charset);
                }
            }
        }

        @Override
        public void reset() {
            synchronized (lock) {
                if (open()) {
                    super.reset();
                }
            }
        }

        @Override
        public void resetBuffer() {
            synchronized (lock) {
                if (open()) {
                    super.resetBuffer();
                }
            }
        }
    }

    /** The chain's output stream: refused once the context ended; a failed write means the client went away. */
    private final class GuardedOutputStream extends ServletOutputStream {
        private final ServletOutputStream delegate;

        GuardedOutputStream(ServletOutputStream delegate) {
            this.delegate = delegate;
        }

        @Override
        public void write(int b) throws IOException {
            synchronized (lock) {
                ContextDoneException err = refusal();
                if (err != null) {
                    throw refused(err);
                }
                try {
                    delegate.write(b);
                } catch (IOException e) {
                    writeFailed(e);
                    throw e;
                }
            }
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            synchronized (lock) {
                ContextDoneException err = refusal();
                if (err != null) {
                    throw refused(err);
                }
                try {
                    delegate.write(b, off, len);
                } catch (IOException e) {
                    writeFailed(e);
                    throw e;
                }
            }
        }

        @Override
        public void flush() throws IOException {
            synchronized (lock) {
                ContextDoneException err = refusal();
                if (err != null) {
                    throw refused(err);
                }
                try {
                    delegate.flush();
                } catch (IOException e) {
                    writeFailed(e);
                    throw e;
                }
            }
        }

        @Override
        public void close() throws IOException {
            synchronized (lock) {
                if (refusal() == null) {
                    delegate.close(); // after the end, closing is a no-op: it usually sits in a finally block
                }
            }
        }

        @Override
        public boolean isReady() {
            return delegate.isReady();
        }

        @Override
        public void setWriteListener(WriteListener writeListener) {
            delegate.setWriteListener(writeListener);
        }
    }

    /**
     * The chain's writer. PrintWriter swallows IOExceptions, so a refused or failed write shows as
     * {@link #checkError()}; the exchange's lock is this writer's lock (class comment).
     */
    private final class GuardedWriter extends PrintWriter {
        private final PrintWriter delegate;

        GuardedWriter(PrintWriter delegate) {
            super(delegate);
            this.delegate = delegate;
            this.lock = ServletExchange.this.lock;
        }

        private boolean refuse() {
            ContextDoneException err = refusal();
            if (err == null) {
                return false;
            }
            refused(err);
            setError();
            return true;
        }

        @Override
        public void write(int c) {
            synchronized (lock) {
                if (!refuse()) {
                    delegate.write(c);
                }
            }
        }

        @Override
        public void write(char[] buf, int off, int len) {
            synchronized (lock) {
                if (!refuse()) {
                    delegate.write(buf, off, len);
                }
            }
        }

        @Override
        public void write(String s, int off, int len) {
            synchronized (lock) {
                if (!refuse()) {
                    delegate.write(s, off, len);
                }
            }
        }

        @Override
        public void flush() {
            synchronized (lock) {
                if (!refuse()) {
                    delegate.flush();
                    if (delegate.checkError()) {
                        writeFailed(new IOException("writer error"));
                        setError();
                    }
                }
            }
        }

        @Override
        public void close() {
            synchronized (lock) {
                if (refusal() == null) {
                    delegate.close();
                }
            }
        }

        @Override
        public boolean checkError() {
            synchronized (lock) {
                if (refusal() != null) {
                    return true;
                }
                return super.checkError();
            }
        }
    }
}
