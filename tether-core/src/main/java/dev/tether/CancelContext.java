package dev.tether;

import dev.tether.spi.ContextObserver;
import dev.tether.spi.ContextObservers;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * A context that can end: {@code withCancel}, {@code withTimeout} and {@code withDeadline} all make one.
 *
 * <p>Lock-free. The done state is one volatile field set once by CAS. A child that must hear of its end (it has a
 * child, a listener or a waiter, or owns its deadline) registers in its nearest cancellable ancestor
 * ({@link #parentSource}) and then re-reads that ancestor's state, while cancelling sets the state and then swaps
 * the child set for a tombstone: whichever side comes second sees the other, so a child created during a cancel
 * is never missed. Any other child is a leaf that reads its parent's state in {@link #isDone()} and never touches
 * the parent. A context that ends on its own unlinks itself from its parent at once, so a long-lived parent
 * retains nothing of its finished children.
 *
 * <p>Deadlines are lazy: {@link #isDone()} compares the clock with the deadline and ends the context itself when
 * it has passed. A timer is scheduled only when someone waits ({@link #onDone}, {@link #done()}), once per
 * deadline, on the context that owns it, and is cancelled with the context.
 */
final class CancelContext extends AbstractContext implements CancellableContext {

    private static final VarHandle STATE;
    private static final VarHandle CHILDREN;
    private static final VarHandle STAGE;
    private static final VarHandle LINKED;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            STATE = lookup.findVarHandle(CancelContext.class, "state", Object.class);
            CHILDREN = lookup.findVarHandle(CancelContext.class, "children", Object.class);
            STAGE = lookup.findVarHandle(CancelContext.class, "stage", CompletionStage.class);
            LINKED = lookup.findVarHandle(CancelContext.class, "linked", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** State: cancelled without a cause; the exception is made on the first {@link #err()}, if ever. */
    private static final Object CANCELLED = new Marker("CANCELLED");
    /** Children after the context is done: registering fails, so late children end at once instead. */
    private static final Object TOMBSTONE = new Marker("TOMBSTONE");

    private static final Optional<Instant> NO_DEADLINE = Optional.empty();

    /** The nearest cancellable ancestor, which this context is registered with; null under a root. */
    private final @Nullable CancelContext parentSource;
    /** The earliest deadline on the path from the root, shared with the context that set it; null if none. */
    private final @Nullable Deadline deadline;

    /**
     * Null while live; then {@link #CANCELLED}, the {@link ContextDoneException}, or the ancestor this context
     * was ended by, whose err it shares.
     */
    private volatile @Nullable Object state;
    /** Null, one child (a CancelContext or a Listener), a {@link Children} set of them, or {@link #TOMBSTONE}. */
    private volatile @Nullable Object children;
    private volatile @Nullable CompletionStage<Void> stage;
    /**
     * Whether this context is registered with {@link #parentSource}. A context links only once it needs to be
     * told (it gets a child, a listener or a waiter) or owns its deadline; until then it is a leaf that reads its
     * parent's state in {@link #isDone()}, and creating and cancelling it never touches the parent. Set once by
     * CAS, by any thread.
     */
    private volatile boolean linked;
    /** What {@link Context#current()} returns while this is attached; made on first attach (a benign race). */
    private @Nullable SimpleContext view;

    private CancelContext(
            AbstractContext parent,
            @Nullable CancelContext parentSource,
            boolean ownDeadline,
            long deadlineNanos,
            @Nullable Instant deadlineInstant) {
        super(parent, parent.values, parent.time);
        this.parentSource = parentSource;
        if (ownDeadline) {
            this.deadline = new Deadline(this, deadlineNanos, deadlineInstant);
        } else {
            this.deadline = parentSource == null ? null : parentSource.deadline;
        }
    }

    /**
     * A child of {@code parent}; with {@code hasDeadline}, one whose deadline is {@code timeoutNanos} from now
     * unless the parent's is earlier.
     */
    static CancelContext create(
            AbstractContext parent, long timeoutNanos, @Nullable Instant deadline, boolean hasDeadline) {
        CancelContext source = parent.source();
        if (source != null) {
            source.ensureLinked(); // a context with a child must hear of its own end, to pass it on
        }
        boolean own = false;
        long nanos = 0;
        if (hasDeadline) {
            nanos = parent.time.nanoTime() + timeoutNanos;
            own = source == null || source.deadline == null || nanos - source.deadline.nanos < 0;
        }
        CancelContext child = new CancelContext(parent, source, own, nanos, deadline);
        ContextObserver o = ContextObservers.installed();
        if (o != null) {
            o.contextCreated(child, source); // before link: a child created under an ended parent ends in link
        }
        child.link(own && timeoutNanos <= 0);
        return child;
    }

    /** Registers with the parent after construction, so the parent never sees a half-built child. */
    private void link(boolean expiredAlready) {
        CancelContext p = parentSource;
        if (p != null && p.isDone()) {
            complete(p);
            return;
        }
        if (expiredAlready) {
            complete(new DeadlineExceededException()); // timeout <= 0: done at once, unless the parent was first
        } else if (ownsDeadline()) {
            // Its own deadline may pass before the parent ends; linked, the parent's end reaches it at once, so
            // the two are ordered as they happened.
            ensureLinked();
        }
    }

    /** Registers with the parent, once; a parent that ended meanwhile ends this context instead. */
    private void ensureLinked() {
        CancelContext p = parentSource;
        if (p == null || linked || !LINKED.compareAndSet(this, false, true)) {
            return; // under a root there is nothing to link to
        }
        if (state == null && !p.addChild(this)) {
            complete(p);
        }
    }

    // ---- done state ----

    @Override
    public boolean isDone() {
        if (state != null) {
            return true;
        }
        CancelContext p = parentSource;
        // An unlinked leaf hears of its parent's end here. Its parent is linked (it has a child), so the parent's
        // state is set whenever it ends; a deadline the leaf shares with it is checked below either way.
        if (!linked && p != null && p.state != null) {
            return complete(p) || true;
        }
        Deadline d = deadline;
        return d != null && time.nanoTime() - d.nanos >= 0 && expire();
    }

    /**
     * Ends this context because its deadline has passed; returns true. An inherited deadline ends the ancestors
     * up to its owner first, top down, and each child then shares its parent's err, so a parent and a child
     * never disagree about why they ended. Iterative: chains can be deep.
     */
    private boolean expire() {
        ArrayDeque<CancelContext> below = null;
        CancelContext c = this;
        while (c.state == null && !c.ownsDeadline() && c.parentSource != null) {
            (below == null ? below = new ArrayDeque<>() : below).push(c);
            c = c.parentSource;
        }
        if (c.state == null) {
            c.complete(new DeadlineExceededException());
        }
        while (below != null && !below.isEmpty()) {
            CancelContext child = below.pop();
            child.complete(Objects.requireNonNull(child.parentSource));
        }
        return true;
    }

    @Override
    public @Nullable ContextDoneException err() {
        return isDone() ? resolveErr() : null;
    }

    private ContextDoneException resolveErr() {
        while (true) {
            Object s = state;
            if (s instanceof ContextDoneException e) {
                return e;
            }
            ContextDoneException e;
            if (s == CANCELLED) {
                e = new ContextCancelledException();
            } else {
                // Ended by an ancestor: follow the chain to the one that ended first, whose state is its own.
                CancelContext origin = (CancelContext) Objects.requireNonNull(s);
                while (origin.state instanceof CancelContext up) {
                    origin = up;
                }
                e = origin.resolveErr();
            }
            // Publishing by CAS makes every caller return the same instance, and shortens the chain for the next.
            if (STATE.compareAndSet(this, s, e)) {
                return e;
            }
        }
    }

    @Override
    public @Nullable Throwable cause() {
        ContextDoneException err = err();
        if (err == null) {
            return null;
        }
        Throwable cause = err.getCause();
        return cause != null ? cause : err;
    }

    @Override
    public boolean cancel() {
        return cancel(null);
    }

    @Override
    public boolean cancel(@Nullable Throwable cause) {
        ContextObserver o = ContextObservers.installed();
        if (o != null) {
            o.cancelCalled(this, cause);
        }
        if (isDone()) {
            return false; // ended already: by a cancel, its parent, or a deadline that passed unobserved
        }
        return complete(cause == null ? CANCELLED : new ContextCancelledException(cause));
    }

    @Override
    public void close() {
        cancel(null);
    }

    /** Ends this context with {@code how} (see {@link #state}), then everything registered below it. */
    private boolean complete(Object how) {
        if (!finish(how)) {
            return false;
        }
        ContextObserver o = ContextObservers.installed();
        if (o == null) {
            propagate(this);
            return true;
        }
        long start = System.nanoTime();
        int ended = propagate(this);
        o.contextEnded(this, how instanceof CancelContext, ended, System.nanoTime() - start);
        return true;
    }

    /** Sets the state and releases what this context holds, without touching its children. */
    private boolean finish(Object how) {
        if (!STATE.compareAndSet(this, null, how)) {
            return false;
        }
        CancelContext p = parentSource;
        if (p != null && how != p && linked) {
            p.removeChild(this); // a parent that ended us drops all its children at once
        }
        // A timer being armed right now is stopped by the arming thread, which re-reads the state (armTimer).
        if (ownsDeadline() && Objects.requireNonNull(deadline).timer instanceof Registration r) {
            r.stop();
        }
        return true;
    }

    /** Ends the descendants of {@code root}, breadth first with an explicit queue: deep trees can't overflow the stack. */
    private static int propagate(CancelContext root) {
        int ended = 0;
        ArrayDeque<CancelContext> pending = null;
        for (CancelContext parent = root; parent != null; parent = pending == null ? null : pending.poll()) {
            // With no child registered yet there is nothing to swap: a child that registers from now on sees
            // the state set and removes itself again (see addChild), so this path costs no atomic.
            Object children = parent.children;
            if (children == null || children == TOMBSTONE
                    || (children = CHILDREN.getAndSet(parent, TOMBSTONE)) == null) {
                continue;
            }
            if (children instanceof Children set) {
                for (Object child : set.keySet()) {
                    int n = parent.notify(child);
                    ended += n & 1;
                    if (n > 1) {
                        (pending == null ? pending = new ArrayDeque<>() : pending).add((CancelContext) child);
                    }
                }
            } else {
                int n = parent.notify(children);
                ended += n & 1;
                if (n > 1) {
                    (pending == null ? pending = new ArrayDeque<>() : pending).add((CancelContext) children);
                }
            }
        }
        return ended;
    }

    /**
     * Tells one child that this context ended: 0 if it is a listener or had ended already, 1 if it is a context
     * that ended now, 3 if it also has children to tell.
     */
    private int notify(Object child) {
        if (child instanceof Listener listener) {
            listener.fire();
            return 0;
        }
        CancelContext c = (CancelContext) child;
        // A child whose own deadline already passed ended then, whether or not anyone looked.
        boolean expired = c.ownsDeadline() && c.time.nanoTime() - Objects.requireNonNull(c.deadline).nanos >= 0;
        if (!c.finish(expired ? new DeadlineExceededException() : this)) {
            return 0;
        }
        return c.children != null ? 3 : 1;
    }

    // ---- children ----

    /** Registers a child context or listener; false if this context is done (the caller then ends it itself). */
    private boolean addChild(Object child) {
        while (true) {
            Object current = children;
            if (current == TOMBSTONE) {
                return false;
            }
            if (current == null) {
                if (CHILDREN.compareAndSet(this, null, child)) {
                    break;
                }
            } else if (current instanceof Children set) {
                set.put(child, Boolean.TRUE);
                set.sweepIfDue();
                break;
            } else {
                Children set = new Children();
                set.put(current, Boolean.TRUE);
                set.put(child, Boolean.TRUE);
                if (CHILDREN.compareAndSet(this, current, set)) {
                    break;
                }
            }
        }
        if (state != null) {
            removeChild(child); // this context ended meanwhile; the caller ends the child itself
            return false;
        }
        return true;
    }

    void removeChild(Object child) {
        while (true) {
            Object current = children;
            if (current == child) {
                if (CHILDREN.compareAndSet(this, child, null)) {
                    return;
                }
            } else {
                if (current instanceof Children set) {
                    set.remove(child);
                }
                return;
            }
        }
    }

    /** Registered children and listeners; for tests of retention. */
    int childCount() {
        Object current = children;
        if (current == null || current == TOMBSTONE) {
            return 0;
        }
        return current instanceof Children set ? set.size() : 1;
    }

    // ---- waiting ----

    @Override
    public Registration onDone(Runnable action, Executor executor) {
        Objects.requireNonNull(action, "action must not be null");
        Objects.requireNonNull(executor, "executor must not be null");
        Listener listener = new Listener(action, executor, this);
        ensureLinked();
        if (!isDone()) {
            if (deadline != null) {
                deadline.arm();
            }
            if (addChild(listener)) {
                return listener;
            }
        }
        listener.fire();
        return listener;
    }

    private void expireOnTimer() {
        if (state == null) {
            complete(new DeadlineExceededException());
        }
    }

    @Override
    public CompletionStage<Void> done() {
        CompletionStage<Void> existing = stage;
        if (existing != null) {
            return existing;
        }
        CompletableFuture<Void> future = new CompletableFuture<>();
        CompletionStage<Void> readOnly = future.minimalCompletionStage();
        if (!STAGE.compareAndSet(this, null, readOnly)) {
            return Objects.requireNonNull(stage);
        }
        onDone(() -> future.complete(null), Runnable::run);
        return readOnly;
    }

    // ---- deadline ----

    @Override
    public Optional<Instant> deadline() {
        Deadline d = deadline;
        return d == null ? NO_DEADLINE : d.instant();
    }

    private boolean ownsDeadline() {
        Deadline d = deadline;
        return d != null && d.owner == this;
    }

    @Override
    public Optional<Duration> remaining() {
        Deadline d = deadline;
        if (d == null) {
            return Optional.empty();
        }
        return Optional.of(Duration.ofNanos(Math.max(0, d.nanos - time.nanoTime())));
    }

    // ---- the rest ----

    @Override
    @Nullable CancelContext source() {
        return this;
    }

    @Override
    Context visible() {
        SimpleContext v = view;
        if (v == null) {
            view = v = new SimpleContext(this, SimpleContext.VIEW, this, values, time, null);
        }
        return v;
    }

    @Override
    void describe(StringBuilder out) {
        Deadline d = deadline;
        if (d == null || d.owner != this) {
            out.append("WithCancel");
            return;
        }
        out.append("WithDeadline(").append(d.instant().orElseThrow()).append(" [");
        appendMillis(out, d.nanos - time.nanoTime());
        out.append("])");
    }

    /** Like Go's Duration.String for the range deadlines live in: {@code 299.5ms}, {@code -3ms}, {@code 12s}. */
    private static void appendMillis(StringBuilder out, long nanos) {
        if (Math.abs(nanos) >= 10_000_000_000L) {
            out.append(nanos / 1_000_000_000L).append('s');
            return;
        }
        long tenths = Math.abs(nanos / 100_000);
        if (nanos < 0 && tenths != 0) {
            out.append('-');
        }
        out.append(tenths / 10);
        if (tenths % 10 != 0) {
            out.append('.').append(tenths % 10);
        }
        out.append("ms");
    }

    private record Marker(String name) {}

    /**
     * The children of a context that has had more than one at a time. Lock-free adds; a remove locks one hash bin.
     *
     * <p>A child whose deadline passes while nobody looks and that is never cancelled (a lost cancel) would stay
     * here, because deadlines are lazy. So each time the set has doubled since the last sweep, the adding thread
     * checks every child, and those past their deadline end and unlink themselves: what a parent holds stays
     * within about twice its live children, at an amortised O(1) per add.
     */
    private static final class Children extends ConcurrentHashMap<Object, Boolean> {
        private static final long serialVersionUID = 1L;
        private static final int FIRST_SWEEP = 64;

        /** What the last sweep left; written by sweeping threads, racy on purpose (a lost write moves a sweep). */
        private transient int sizeAfterSweep;

        /** Sweeps when the set has doubled since the last sweep; reads only, so adders do not contend on it. */
        void sweepIfDue() {
            int n = size();
            if (n < Math.max(FIRST_SWEEP, 2 * sizeAfterSweep)) {
                return;
            }
            sizeAfterSweep = n; // other adders skip while this one sweeps
            for (Object child : keySet()) {
                if (child instanceof CancelContext c && c.deadline != null) {
                    c.isDone(); // a passed deadline ends it, and ending unlinks it from this set
                }
            }
            sizeAfterSweep = size();
        }
    }

    /**
     * A deadline, made by the context that set it (its owner) and shared by every descendant that inherits it.
     * Holds the owner's timer, scheduled only once someone waits: {@code null -> ARMING -> Registration}.
     */
    private static final class Deadline {
        private static final VarHandle TIMER;
        private static final VarHandle INSTANT;

        static {
            try {
                MethodHandles.Lookup lookup = MethodHandles.lookup();
                TIMER = lookup.findVarHandle(Deadline.class, "timer", Object.class);
                INSTANT = lookup.findVarHandle(Deadline.class, "instant", Optional.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private static final Object ARMING = new Marker("ARMING");

        final CancelContext owner;
        /** On the owner's {@link TimeSource#nanoTime()} scale. */
        final long nanos;
        /** Made on first use for a timeout, so that withTimeout reads no wall clock; then always the same. */
        private volatile @Nullable Optional<Instant> instant;
        /** Written by the first waiter (and the owner's finish), read by the owner's finish. */
        volatile @Nullable Object timer;

        Deadline(CancelContext owner, long nanos, @Nullable Instant instant) {
            this.owner = owner;
            this.nanos = nanos;
            this.instant = instant == null ? null : Optional.of(instant);
        }

        Optional<Instant> instant() {
            Optional<Instant> i = instant;
            if (i != null) {
                return i;
            }
            TimeSource time = owner.time;
            Optional<Instant> computed = Optional.of(time.now().plusNanos(nanos - time.nanoTime()));
            return INSTANT.compareAndSet(this, null, computed) ? computed : Objects.requireNonNull(instant);
        }

        /** Schedules the owner's timer, once, because someone now waits on this deadline. */
        void arm() {
            if (timer != null || owner.state != null || !TIMER.compareAndSet(this, null, ARMING)) {
                return;
            }
            TimeSource time = owner.time;
            Registration scheduled = time.schedule(owner::expireOnTimer, nanos - time.nanoTime());
            timer = scheduled;
            if (owner.state != null) {
                scheduled.stop(); // ended while we were scheduling: its finish() may not have seen the timer
            }
        }
    }
}
