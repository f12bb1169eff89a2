package dev.tether;

import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * One {@link Context#attach()}. Each thread keeps its bindings as a stack in a {@link Stack} of arrays; a binding
 * is the pair (depth, serial) on it, so attaching allocates nothing once the JIT has inlined the scope away, and
 * the stack can still tell an in-order close, an out-of-order close, and the late close of a scope that an
 * out-of-order close already unbound and reported.
 */
final class Binding implements Scope {

    private static final ThreadLocal<@Nullable Stack> STACK = new ThreadLocal<>();

    /** Off by default: recording where each scope was opened costs a stack walk per attach. */
    private static final boolean RECORD_SITES = Boolean.getBoolean("dev.tether.scopeSites");

    private final Stack stack;
    private final int depth;
    private final long serial;
    /** Set by the first close(); read on the owning thread only. */
    private boolean closed;

    private Binding(Stack stack, int depth, long serial) {
        this.stack = stack;
        this.depth = depth;
        this.serial = serial;
    }

    static Context current() {
        Stack s = STACK.get();
        return s == null ? Context.background() : s.contexts[s.depth];
    }

    static Scope attach(Context context) {
        Stack s = STACK.get();
        if (s == null) {
            s = new Stack(Thread.currentThread());
            STACK.set(s);
        }
        int d = ++s.depth;
        if (d == s.contexts.length) {
            s.grow();
        }
        long serial = ++s.lastSerial;
        s.contexts[d] = context;
        s.serials[d] = serial;
        if (RECORD_SITES) {
            s.sites[d] = new Throwable("scope for " + context + " opened here");
        }
        return new Binding(s, d, serial);
    }

    @Override
    public void close() {
        Stack s = stack;
        if (Thread.currentThread() != s.owner) {
            throw s.wrongThread(depth, serial);
        }
        if (closed) {
            return;
        }
        closed = true;
        if (depth > s.depth || s.serials[depth] != serial) {
            return; // already unbound and reported by the out-of-order close of a scope opened before it
        }
        if (depth == s.depth) {
            s.pop(depth - 1);
            return;
        }
        throw s.outOfOrder(depth);
    }

    @Override
    public String toString() {
        return closed ? "Scope[closed]" : "Scope[depth " + depth + "]";
    }

    /** A thread's bindings; index 0 is the background context, which is never unbound. */
    private static final class Stack {
        final Thread owner;
        Context[] contexts = new Context[8];
        long[] serials = new long[8];
        @Nullable Throwable[] sites = RECORD_SITES ? new Throwable[8] : new Throwable[0];
        int depth;
        long lastSerial;

        Stack(Thread owner) {
            this.owner = owner;
            contexts[0] = Context.background();
        }

        void grow() {
            contexts = Arrays.copyOf(contexts, contexts.length * 2);
            serials = Arrays.copyOf(serials, serials.length * 2);
            if (RECORD_SITES) {
                sites = Arrays.copyOf(sites, sites.length * 2);
            }
        }

        /** Unbinds everything above {@code newDepth}, releasing the contexts for GC. */
        void pop(int newDepth) {
            for (int d = depth; d > newDepth; d--) {
                contexts[d] = null;
                if (RECORD_SITES) {
                    sites[d] = null;
                }
            }
            depth = newDepth;
        }

        /**
         * Restores what the scope at {@code at} replaced, as its caller expects, unbinding the scopes opened after
         * it and still open, and describes them: they are reported here, once.
         */
        IllegalStateException outOfOrder(int at) {
            StringBuilder left = new StringBuilder();
            for (int d = depth; d > at; d--) {
                left.append("\n  still open: scope for ").append(contexts[d]);
            }
            Throwable innermostSite = RECORD_SITES ? sites[depth] : null;
            Throwable ownSite = RECORD_SITES ? sites[at] : null;
            String message = "scope for " + contexts[at] + " closed out of order: scopes opened after it were not "
                    + "closed first" + left + "\nClose scopes in reverse order, ideally with try-with-resources"
                    + siteHint();
            pop(at - 1);
            IllegalStateException report = new IllegalStateException(message, innermostSite);
            if (ownSite != null) {
                report.addSuppressed(ownSite);
            }
            return report;
        }

        IllegalStateException wrongThread(int at, long serial) {
            boolean bound = at <= depth && serials[at] == serial;
            return new IllegalStateException("scope " + (bound ? "for " + contexts[at] + " " : "") + "was opened "
                    + "on thread " + owner.getName() + " but closed on thread " + Thread.currentThread().getName()
                    + "; a scope must be closed on the thread that opened it" + siteHint(),
                    RECORD_SITES && bound ? sites[at] : null);
        }

        private static String siteHint() {
            return RECORD_SITES ? "" : " (run with -Ddev.tether.scopeSites=true to see where each scope was opened)";
        }
    }
}
