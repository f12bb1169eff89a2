package dev.tether;

import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;

/**
 * One {@link Context#attach()}: the context it bound and the one it replaced, on a per-thread {@link Slot}. The
 * fast path is gRPC's: one field write to attach and one to restore, and a scope the JIT can keep off the heap.
 *
 * <p>A scope closed while the slot holds another context was closed out of order: it restores what it replaced
 * (as its caller expects), counts an unwind on the slot and reports. A scope opened before that unwind and closed
 * after it finds the slot not holding its context either; it was unbound by the unwind and reported with it, so
 * it closes quietly instead of reporting twice. With {@code -Ddev.tether.scopeSites=true} the slot also keeps
 * the open scopes and where each was opened, and the report lists them.
 */
final class Binding implements Scope {

    private static final ThreadLocal<@Nullable Slot> SLOT = new ThreadLocal<>();

    /** Off by default: recording where each scope was opened costs a stack walk per attach. */
    private static final boolean RECORD_SITES = Boolean.getBoolean("dev.tether.scopeSites");

    private final Slot slot;
    private final Context attached;
    private final Context previous;
    private final long unwindsAtAttach;
    private final @Nullable Throwable openedAt;
    /** Set by the first close(); read on the owning thread only. */
    private boolean closed;

    private Binding(Slot slot, Context attached, Context previous) {
        this.slot = slot;
        this.attached = attached;
        this.previous = previous;
        this.unwindsAtAttach = slot.unwinds;
        this.openedAt = RECORD_SITES ? new Throwable("scope for " + attached + " opened here") : null;
    }

    static Context current() {
        Slot s = SLOT.get();
        return s == null ? Context.background() : s.current;
    }

    static Scope attach(Context context) {
        Slot s = SLOT.get();
        if (s == null) {
            s = new Slot(Thread.currentThread());
            SLOT.set(s);
        }
        Binding b = new Binding(s, context, s.current);
        s.current = context;
        if (RECORD_SITES) {
            s.open.push(b);
        }
        return b;
    }

    @Override
    public void close() {
        Slot s = slot;
        if (Thread.currentThread() != s.owner) {
            throw wrongThread(s, attached, openedAt);
        }
        if (closed) {
            return;
        }
        closed = true;
        if (s.current == attached) {
            s.current = previous;
            if (RECORD_SITES) {
                s.open.remove(this);
            }
            return;
        }
        if (s.unwinds != unwindsAtAttach) {
            return; // unbound by an out-of-order close since it was opened, and reported then
        }
        throw outOfOrder(s, this);
    }

    /** Restores what {@code b} replaced and reports the scopes opened after it that are still open. */
    private static IllegalStateException outOfOrder(Slot s, Binding b) {
        StringBuilder left = new StringBuilder();
        Throwable innermostSite = null;
        if (RECORD_SITES) {
            while (!s.open.isEmpty() && s.open.peek() != b) {
                Binding open = s.open.pop();
                left.append("\n  still open: scope for ").append(open.attached);
                innermostSite = innermostSite == null ? open.openedAt : innermostSite;
            }
            s.open.remove(b);
        } else {
            left.append("\n  still open: the scope that bound ").append(s.current);
        }
        s.current = b.previous;
        s.unwinds++;
        IllegalStateException report = new IllegalStateException("scope for " + b.attached + " closed out of "
                + "order: scopes opened after it were not closed first" + left
                + "\nClose scopes in reverse order, ideally with try-with-resources" + siteHint(), innermostSite);
        if (b.openedAt != null) {
            report.addSuppressed(b.openedAt);
        }
        return report;
    }

    private static IllegalStateException wrongThread(Slot s, Context attached, @Nullable Throwable openedAt) {
        return new IllegalStateException("scope for " + attached + " was opened on thread " + s.owner.getName()
                + " but closed on thread " + Thread.currentThread().getName()
                + "; a scope must be closed on the thread that opened it" + siteHint(), openedAt);
    }

    private static String siteHint() {
        return RECORD_SITES ? "" : " (run with -Ddev.tether.scopeSites=true to see where each scope was opened)";
    }

    @Override
    public String toString() {
        return "Scope[" + attached + (closed ? ", closed]" : "]");
    }

    /** A thread's current context; written and read by that thread only. */
    private static final class Slot {
        final Thread owner;
        Context current = Context.background();
        /** Out-of-order closes so far: a scope opened before one of them may already be unbound. */
        long unwinds;
        /** The open scopes, innermost first; kept only with -Ddev.tether.scopeSites=true. */
        final ArrayDeque<Binding> open = new ArrayDeque<>(RECORD_SITES ? 16 : 1);

        Slot(Thread owner) {
            this.owner = owner;
        }
    }
}
