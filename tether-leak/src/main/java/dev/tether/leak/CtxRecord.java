package dev.tether.leak;

import dev.tether.CancellableContext;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * What the tracker knows of one cancellable context. A weak reference to the context, so the tracker never keeps
 * a context alive; when the collector clears it, the reaper drops the record from the tracker's map (and reports
 * a lost cancel if nobody called cancel). Records hold their parent's record strongly: a task's lineage outlives
 * the map entries of its ancestors for as long as the task's own record is reachable.
 *
 * <p>Equality: a record equals itself and any record or {@link Probe} of the same live context, so the tracker's
 * map can be keyed by records and searched with a probe. A cleared record equals only itself, which is what
 * removing it takes.
 */
final class CtxRecord extends WeakReference<CancellableContext> {

    /** {@link #origin}: how the context ended, as contextEnded told. */
    static final byte UNKNOWN = 0;
    static final byte OWN = 1;
    static final byte ANCESTOR = 2;

    private static final AtomicLong IDS = new AtomicLong();
    private static final VarHandle TASKS;
    private static final VarHandle SEEN;
    private static final VarHandle LISTENING;
    private static final VarHandle CHECK_PENDING;
    private static final VarHandle ID;
    private static final VarHandle PENDING;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            TASKS = lookup.findVarHandle(CtxRecord.class, "tasks", Set.class);
            SEEN = lookup.findVarHandle(CtxRecord.class, "seen", EndSeen.class);
            LISTENING = lookup.findVarHandle(CtxRecord.class, "listening", boolean.class);
            CHECK_PENDING = lookup.findVarHandle(CtxRecord.class, "checkPending", boolean.class);
            ID = lookup.findVarHandle(CtxRecord.class, "id", String.class);
            PENDING = lookup.findVarHandle(CtxRecord.class, "pending", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Who ended a context, when, and where the ending thread was (if captured). */
    record EndSeen(String thread, long nanos, @Nullable String site) {}

    private final int hash;
    final @Nullable CtxRecord parent;
    /** Cancellable contexts on the chain, this one included; 1 under a root (or for one adopted). */
    final int depth;
    /** On the tracker's time source. */
    final long createdNanos;
    /** Whether its creation site was captured and a lost cancel is reported for it. */
    final boolean sampled;
    final @Nullable String site;
    /** Exact when sampled; else worked out when first described (a benign race: every writer writes the same). */
    @Nullable String kind;
    /** Whether a TaskGroup made it as its own context (known when sampled): once done, no fork of it starts. */
    final boolean taskGroup;

    /** Written by {@link LeakDetector#label}, read by reports. */
    volatile @Nullable String label;
    /** Assigned on first use by any thread, once (CAS). */
    private volatile @Nullable String id;
    /** Set by the thread calling cancel()/close(); read by the reaper. */
    volatile boolean cancelCalled;
    /** Set by contextEnded on the ending thread; read by reports. */
    volatile byte origin;
    /** The first sighting of the end: by the onDone listener or contextEnded, whichever ran first (CAS). */
    private volatile @Nullable EndSeen seen;
    /** Live tasks; made by the first task (CAS). Tasks add and remove themselves; checks read it. */
    private volatile @Nullable Set<TaskRecord> tasks;
    /** Whether the onDone listener is registered; set once by the first task (CAS). */
    private volatile boolean listening;
    /** Whether a check is scheduled and has not started yet (CAS by schedulers, reset by the check). */
    private volatile boolean checkPending;
    /** Tasks submitted and not started yet, counted at level FULL only: added by submitters, taken by starters. */
    private volatile int pending;

    CtxRecord(CancellableContext context, ReferenceQueue<? super CancellableContext> queue,
            @Nullable CtxRecord parent, long createdNanos, boolean sampled, Frames.@Nullable Capture capture) {
        super(context, queue);
        this.hash = System.identityHashCode(context);
        this.parent = parent;
        this.depth = parent == null ? 1 : parent.depth + 1;
        this.createdNanos = createdNanos;
        this.sampled = sampled;
        this.site = capture == null ? null : capture.site();
        this.kind = capture == null ? null : capture.kind();
        this.taskGroup = capture != null && capture.taskGroup();
    }

    String id() {
        String i = id;
        if (i == null) {
            String fresh = "c" + IDS.incrementAndGet();
            i = ID.compareAndSet(this, null, fresh) ? fresh : id;
        }
        return java.util.Objects.requireNonNull(i);
    }

    void submitted() {
        PENDING.getAndAdd(this, 1);
    }

    void started() {
        PENDING.getAndAdd(this, -1);
    }

    int pending() {
        return pending;
    }

    @Nullable EndSeen seen() {
        return seen;
    }

    void see(EndSeen end) {
        SEEN.compareAndSet(this, null, end);
    }

    Set<TaskRecord> tasks() {
        Set<TaskRecord> t = tasks;
        if (t == null) {
            Set<TaskRecord> fresh = ConcurrentHashMap.newKeySet(4);
            t = TASKS.compareAndSet(this, null, fresh) ? fresh : tasks;
        }
        return java.util.Objects.requireNonNull(t);
    }

    /** The live tasks, or an empty set; never makes one. */
    Set<TaskRecord> tasksIfAny() {
        Set<TaskRecord> t = tasks;
        return t == null ? Set.of() : t;
    }

    boolean hasTasks() {
        Set<TaskRecord> t = tasks;
        return t != null && !t.isEmpty();
    }

    /** True for the one caller that gets to register the onDone listener. */
    boolean startListening() {
        return !listening && LISTENING.compareAndSet(this, false, true);
    }

    /** True for the one caller that gets to schedule the next check. */
    boolean claimCheck() {
        return !checkPending && CHECK_PENDING.compareAndSet(this, false, true);
    }

    void checkStarted() {
        checkPending = false;
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        if (o == this) {
            return true;
        }
        Object mine = get();
        if (mine == null) {
            return false;
        }
        if (o instanceof Probe p) {
            return p.context == mine;
        }
        return o instanceof CtxRecord r && r.get() == mine;
    }

    /** A map key standing for a context, to find its record. */
    static final class Probe {
        final Object context;

        Probe(Object context) {
            this.context = context;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(context);
        }

        @Override
        public boolean equals(@Nullable Object o) {
            return o == this || (o instanceof CtxRecord r && r.get() == context);
        }
    }
}
