package dev.tether;

import org.jspecify.annotations.Nullable;

/**
 * One {@link Context#attach()}: the context bound to a thread, and the binding it replaced. The thread's
 * current binding is the top of a stack that try-with-resources unwinds in order; {@link #close()} checks that
 * it does.
 */
final class Binding implements Scope {

    private static final ThreadLocal<@Nullable Binding> CURRENT = new ThreadLocal<>();

    /** Off by default: recording where each scope was opened costs a stack walk per attach. */
    private static final boolean RECORD_SITES = Boolean.getBoolean("dev.tether.scopeSites");

    private final Context context;
    private final @Nullable Binding previous;
    private final Thread thread;
    private final @Nullable Throwable openedAt;
    /** Set by close(), or by an enclosing scope's close() that had to unbind this one; read on this thread only. */
    private boolean closed;

    private Binding(Context context, @Nullable Binding previous, Thread thread) {
        this.context = context;
        this.previous = previous;
        this.thread = thread;
        this.openedAt = RECORD_SITES ? new Throwable("scope for " + context + " opened here") : null;
    }

    static Context current() {
        Binding b = CURRENT.get();
        return b == null ? Context.background() : b.context;
    }

    static Scope attach(Context context) {
        Binding b = new Binding(context, CURRENT.get(), Thread.currentThread());
        CURRENT.set(b);
        return b;
    }

    @Override
    public void close() {
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("scope for " + context + " was opened on thread " + thread.getName()
                    + " but closed on thread " + Thread.currentThread().getName()
                    + "; a scope must be closed on the thread that opened it" + siteHint(), openedAt);
        }
        if (closed) {
            return;
        }
        closed = true;
        Binding top = CURRENT.get();
        CURRENT.set(previous);
        if (top == this) {
            return;
        }
        // Out of order. The binding is restored to what this scope replaced, as its caller expects; the scopes
        // opened after it and still open are unbound now and reported here, once.
        StringBuilder left = new StringBuilder();
        Throwable innermostSite = null;
        for (Binding b = top; b != null && b != this; b = b.previous) {
            b.closed = true;
            left.append("\n  still open: scope for ").append(b.context);
            innermostSite = innermostSite == null ? b.openedAt : innermostSite;
        }
        IllegalStateException report = new IllegalStateException("scope for " + context
                + " closed out of order: scopes opened after it were not closed first" + left
                + "\nClose scopes in reverse order, ideally with try-with-resources" + siteHint(), innermostSite);
        if (openedAt != null) {
            report.addSuppressed(openedAt);
        }
        throw report;
    }

    private String siteHint() {
        return RECORD_SITES ? "" : " (run with -Ddev.tether.scopeSites=true to see where each scope was opened)";
    }

    @Override
    public String toString() {
        return "Scope[" + context + (closed ? ", closed]" : "]");
    }
}
