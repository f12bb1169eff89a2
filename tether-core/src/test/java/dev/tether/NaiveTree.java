package dev.tether;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.jspecify.annotations.Nullable;

/**
 * A deliberately broken cancellation tree, planted for {@link PlantedRaceTest}: it shows that the stress harness
 * catches the race Tether's {@link CancelContext} closes.
 *
 * <p>The bug is the classic check-then-act: {@link #child()} checks whether the parent is cancelled and, if not,
 * registers the child, but never checks again after registering. A cancel that lands between the check and the
 * registration sets the flag, drains the children it can see (not yet this one) and returns: the child stays
 * live under a cancelled parent, forever. Tether registers first and then re-reads the parent's state, while its
 * canceller sets the state first and then takes the children, so one of the two always sees the other.
 *
 * <p>{@link #WINDOW_SPINS} widens the gap between check and registration by a few {@link Thread#onSpinWait()}s
 * (about a microsecond on an AMD EPYC, at some 19 ns each), so that on two shared cores the race shows within a
 * fraction of a second instead of by luck.
 */
final class NaiveTree {

    /** The planted gap between check and act, in spin-waits: about a microsecond. */
    static final int WINDOW_SPINS = 50;

    private static final VarHandle CAUSE;

    static {
        try {
            CAUSE = MethodHandles.lookup().findVarHandle(NaiveTree.class, "cause", Throwable.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Null while live; set once by the first cancel. */
    private volatile @Nullable Throwable cause;
    private final Queue<NaiveTree> children = new ConcurrentLinkedQueue<>();

    NaiveTree child() {
        NaiveTree child = new NaiveTree();
        Throwable c = cause;
        if (c != null) { // check ...
            child.cancel(c);
            return child;
        }
        for (int i = 0; i < WINDOW_SPINS; i++) {
            Thread.onSpinWait();
        }
        children.add(child); // ... then act, and never look at cause again: THE PLANTED BUG
        return child;
    }

    boolean cancel(Throwable why) {
        if (!CAUSE.compareAndSet(this, null, why)) {
            return false;
        }
        for (NaiveTree c; (c = children.poll()) != null; ) {
            c.cancel(why);
        }
        return true;
    }

    @Nullable Throwable cause() {
        return cause;
    }

    /** {@link ChildRace} on the naive tree: the same rounds as {@link ChildRace.OnTether}'s withCancel. */
    static final class Race implements ChildRace {
        private final NaiveTree parent = new NaiveTree();
        private final Throwable why = new Stress.Cause("the round's cause");
        private boolean cancelReturned;
        private @Nullable NaiveTree child;

        @Override
        public void cancel() {
            cancelReturned = parent.cancel(why);
        }

        @Override
        public void derive() {
            child = parent.child();
        }

        @Override
        public @Nullable String verdict() {
            if (!cancelReturned) {
                return "the canceller's cancel() returned false on a fresh tree";
            }
            NaiveTree c = child;
            if (c == null) {
                return "no child was made";
            }
            if (c.cause() != why) {
                return "MISSED CHILD: the parent is cancelled but its child has cause " + c.cause();
            }
            return null;
        }

        @Override
        public String toString() {
            return "naive child while the parent is cancelled";
        }
    }
}
