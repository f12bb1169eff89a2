package dev.tether.leak;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ContextDoneException;
import dev.tether.DeadlineExceededException;
import dev.tether.TimeSource;
import dev.tether.spi.ContextObserver;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * The leak detector's {@link ContextObserver}: records every cancellable context and every task started through
 * Tether, and checks a context's tasks once, a grace period after the context ended.
 */
final class Tracker implements ContextObserver {

    /*
     * Implementation overview.
     *
     * Representation. `contexts` maps each cancellable context seen to its CtxRecord, a weak reference to the
     * context keyed by identity (a record is its own key; lookups use a Probe). contextCreated makes the record,
     * linked to its parent's record, so lineage and depth are known without touching the context. A context made
     * before installation is adopted when first seen, with no parent. Each record owns a concurrent set of its
     * live tasks (TaskRecord: a weak reference to the thread), made by its first task.
     *
     * Tasks. taskSubmitted runs on the submitting thread and captures the creation stack when the task is sampled
     * (1 in sampleInterval, or all at FULL); the stack is the token. At FULL the token is a Submission, counted in
     * its owner's `pending` until it first starts, so that a check made right after work was handed out (the JUnit
     * extension's) can wait for a thread that was started but has not run its task yet. taskStarted adds a TaskRecord to the owner's
     * set and returns it; taskEnded marks it ended and removes it. Tasks under a root (no owner) can't outlive
     * anything and are not recorded.
     *
     * Checks. The first task of a context registers an onDone listener on it (Runnable::run: on the ending
     * thread, inline). When the context ends, the listener (or contextEnded, whichever runs first) notes who
     * ended it in `seen` (thread, time, and the stack if tasks still run: that thread is inside the cancel call)
     * and, if tasks are live, schedules ONE check after the grace period. An end first seen late (one an ancestor
     * propagated to a context that had no listener yet) is dated by the ancestor's end, when that was earlier. A
     * task that starts after its context ended schedules one too. The race between a task starting and its
     * context ending is closed Dekker-style: the task adds itself to the set, then reads `seen`; the ender writes
     * `seen`, then reads the set (all volatile), so at least one of them sees the other and schedules. (The
     * stress test found the version that read the set first.) At most one check per context is pending
     * (claimCheck CAS); a check first clears the flag, then reads the set, so a task added meanwhile either is
     * seen by this check or schedules the next. A check reports tasks past their due time (end + grace, or start
     * + grace for late starters) and reschedules itself for the earliest task not yet due. Each leaked task is
     * reported once (markReported CAS). A task that ends while being described is dropped: its record's `ended`
     * is re-read after its stack is taken.
     *
     * Reaper. A daemon thread takes cleared records off the reference queue, removes them from the map and, for
     * sampled records nobody called cancel on, reports a lost cancel. Nothing scans periodically.
     *
     * Retention. Records hold contexts and threads weakly; a context holds the tracker's listener, not the other
     * way round. After close(), hooks do nothing and the map is cleared.
     */

    private static final System.Logger LOG = System.getLogger("dev.tether.leak");

    /** Lost cancels kept for the context map. */
    private static final int RECENT_LOST_CANCELS = 64;
    /** Lineage entries kept in a report, nearest to the task first kept. */
    private static final int MAX_LINEAGE = 64;

    final LeakDetector.Options options;
    private final boolean full;
    private final int sampleInterval;
    final long graceNanos;
    private final int maxChainDepth;
    private final boolean trackLostCancels;
    private final LeakListener listener;
    final TimeSource time;
    private final long anchorNanos;
    private final Instant anchorInstant;

    final ConcurrentHashMap<Object, CtxRecord> contexts = new ConcurrentHashMap<>();
    private final ReferenceQueue<CancellableContext> collected = new ReferenceQueue<>();
    /** Runs checks (system time source) and listener calls that must not run on an application thread. */
    private final ScheduledThreadPoolExecutor worker;
    private final Thread reaper;
    /** Guarded by itself. */
    private final ArrayDeque<LostCancel> recentLostCancels = new ArrayDeque<>();

    // Racy on purpose: a lost update only shifts which task is sampled; one thread alone samples exactly 1 in N.
    private int contextSamples;
    private int taskSamples;

    private volatile boolean closed;

    Tracker(LeakDetector.Options options) {
        this.options = options;
        this.full = options.level() == LeakDetector.Level.FULL;
        this.sampleInterval = options.sampleInterval();
        this.graceNanos = options.gracePeriod().toNanos();
        this.maxChainDepth = options.maxChainDepth();
        this.trackLostCancels = options.trackLostCancels();
        this.listener = options.listener();
        this.time = options.timeSource();
        this.anchorNanos = time.nanoTime();
        this.anchorInstant = time.now();
        this.worker = new ScheduledThreadPoolExecutor(1, task -> {
            Thread t = new Thread(task, "tether-leak-checks");
            t.setDaemon(true);
            return t;
        });
        worker.setRemoveOnCancelPolicy(true);
        this.reaper = new Thread(this::reap, "tether-leak-reaper");
        reaper.setDaemon(true);
        reaper.start();
    }

    // ---- the hooks ----

    @Override
    public void contextCreated(CancellableContext context, @Nullable CancellableContext parent) {
        if (closed) {
            return;
        }
        CtxRecord p = parent == null ? null : findOrAdopt(parent);
        boolean sampled = full || sampleContext();
        Frames.Capture capture = sampled ? Frames.capture() : null;
        CtxRecord r = new CtxRecord(context, collected, p, time.nanoTime(), sampled, capture);
        contexts.put(r, r);
        if (r.depth == maxChainDepth + 1) { // once per chain: the first context past the threshold
            String site = capture != null ? capture.site() : Frames.capture().site();
            DeepChain chain = new DeepChain(r.id(), r.depth, site);
            execute(() -> {
                JfrBridge.deepChain(chain);
                dispatch(() -> listener.onDeepChain(chain));
            });
        }
    }

    @Override
    public void cancelCalled(CancellableContext context, @Nullable Throwable cause) {
        if (closed) {
            return;
        }
        CtxRecord r = find(context);
        if (r != null) {
            r.cancelCalled = true;
        }
    }

    @Override
    public void contextEnded(
            CancellableContext context, boolean byAncestor, int descendantsEnded, long propagationNanos) {
        if (closed) {
            return;
        }
        CtxRecord r = find(context);
        if (r == null) {
            return;
        }
        r.origin = byAncestor ? CtxRecord.ANCESTOR : CtxRecord.OWN;
        if (!byAncestor) {
            // The ending thread is inside cancel() (or saw the deadline pass): its stack says who ended it.
            see(r);
        }
    }

    @Override
    public @Nullable Object taskSubmitted(@Nullable CancellableContext owner, Context context) {
        if (owner == null || closed) {
            return null;
        }
        if (full) {
            CtxRecord r = findOrAdopt(owner);
            r.submitted();
            return new Submission(r, Frames.capture().frames());
        }
        return sampleTask() ? Frames.capture().frames() : null;
    }

    /**
     * The token of a submission at level FULL: counted in its owner's pending tasks until it first starts (a
     * wrapped task may be run more than once; the count drops once).
     */
    static final class Submission {
        private static final VarHandle STARTED;

        static {
            try {
                STARTED = MethodHandles.lookup().findVarHandle(Submission.class, "started", boolean.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final CtxRecord owner;
        final StackTraceElement[] stack;
        private volatile boolean started;

        Submission(CtxRecord owner, StackTraceElement[] stack) {
            this.owner = owner;
            this.stack = stack;
        }

        boolean markStarted() {
            return !started && STARTED.compareAndSet(this, false, true);
        }
    }

    @Override
    public @Nullable Object taskStarted(
            @Nullable CancellableContext owner, Context context, @Nullable Object submitted) {
        if (owner == null || closed) {
            return null;
        }
        CtxRecord r = findOrAdopt(owner);
        StackTraceElement[] creation = null;
        if (submitted instanceof Submission s) {
            if (s.markStarted()) {
                s.owner.started();
            }
            creation = s.stack;
        } else if (submitted instanceof StackTraceElement[] stack) {
            creation = stack;
        }
        TaskRecord t = new TaskRecord(r, Thread.currentThread(), time.nanoTime(), creation);
        r.tasks().add(t);
        if (r.startListening()) {
            // Also arms the context's deadline timer, so the end of a context with tasks is heard when it happens.
            owner.onDone(() -> ended(r), Runnable::run);
        }
        if (r.seen() != null) {
            scheduleCheck(r, graceNanos); // started after its context ended
        }
        return t;
    }

    @Override
    public void taskEnded(@Nullable Object started) {
        if (started instanceof TaskRecord t) {
            t.ended = true;
            t.owner.tasksIfAny().remove(t);
        }
    }

    /** The onDone listener of a context with tasks: runs on the thread that ends it. */
    private void ended(CtxRecord r) {
        if (!closed) {
            see(r);
        }
    }

    /**
     * Notes the end of a context, once (first sighting wins), then checks for live tasks. The order matters: a
     * task adds itself and then reads {@code seen}; this writes {@code seen} and then reads the tasks; so a task
     * that found no end yet is found here, and scheduled for.
     */
    private void see(CtxRecord r) {
        if (r.seen() == null) {
            String site = r.sampled || r.hasTasks() ? Frames.capture().site() : null;
            r.see(new CtxRecord.EndSeen(Frames.threadLabel(Thread.currentThread()), endedAt(r), site));
        }
        if (r.hasTasks()) {
            scheduleCheck(r, Objects.requireNonNull(r.seen()).nanos() + graceNanos - time.nanoTime());
        }
    }

    /**
     * When a context that just turned out to be done ended, as closely as known: now, or the end seen on its
     * nearest ancestor if that was earlier. An end an ancestor's cancel propagates (or an unlinked child picks up
     * lazily) reaches no hook of the child's, so a child without tasks then is first seen ended when a task of
     * its starts or registers its listener, possibly much later; dating it then would shift its tasks' grace
     * period and {@code outlivedMillis} by the delay. A context is done no later than any of its ancestors, and
     * every end is seen at or after it happens, so the earlier of the two is never before the context's real end.
     */
    private long endedAt(CtxRecord r) {
        long now = time.nanoTime();
        CtxRecord a = r.parent;
        for (int hops = 0; a != null && hops < MAX_LINEAGE; hops++, a = a.parent) {
            CtxRecord.EndSeen seen = a.seen();
            if (seen != null) {
                return seen.nanos() - now < 0 ? seen.nanos() : now;
            }
        }
        return now;
    }

    private boolean sampleContext() {
        return ++contextSamples % sampleInterval == 0;
    }

    private boolean sampleTask() {
        return ++taskSamples % sampleInterval == 0;
    }

    @Nullable CtxRecord find(Object context) {
        return contexts.get(new CtxRecord.Probe(context));
    }

    private CtxRecord findOrAdopt(CancellableContext context) {
        CtxRecord r = find(context);
        if (r != null) {
            return r;
        }
        CtxRecord adopted = new CtxRecord(context, collected, null, time.nanoTime(), false, null);
        CtxRecord raced = contexts.putIfAbsent(adopted, adopted);
        return raced != null ? raced : adopted;
    }

    // ---- checks ----

    private void scheduleCheck(CtxRecord r, long delayNanos) {
        if (closed || !r.claimCheck()) {
            return;
        }
        Runnable check = () -> check(r);
        try {
            if (time == TimeSource.system()) {
                worker.schedule(check, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
            } else {
                time.schedule(check, Math.max(0, delayNanos)); // a test's time source runs it where it advances
            }
        } catch (RejectedExecutionException e) {
            r.checkStarted(); // closed meanwhile
        }
    }

    /** The one check of a context, after its grace period. */
    void check(CtxRecord r) {
        r.checkStarted();
        CtxRecord.EndSeen end = r.seen();
        if (closed || end == null) {
            return;
        }
        long now = time.nanoTime();
        List<TaskRecord> due = new ArrayList<>();
        long next = 0;
        boolean pending = false;
        for (TaskRecord t : r.tasksIfAny()) {
            if (t.ended || t.reported()) {
                continue;
            }
            long dueAt = dueAt(t, end);
            if (now - dueAt >= 0) {
                due.add(t);
            } else if (!pending || dueAt - next < 0) {
                next = dueAt;
                pending = true;
            }
        }
        if (pending) {
            scheduleCheck(r, next - now);
        }
        if (due.isEmpty()) {
            return;
        }
        Map<CtxRecord, ContextInfo> memo = new HashMap<>();
        List<TaskInfo> leaked = new ArrayList<>(due.size());
        for (TaskRecord t : due) {
            TaskInfo info = describe(t, now, memo);
            if (info != null && info.leaked() && t.markReported()) {
                leaked.add(info);
            }
        }
        if (leaked.isEmpty()) {
            return;
        }
        LeakReport report = LeakReport.of(instant(now), leaked);
        for (TaskInfo t : leaked) {
            JfrBridge.leakSuspected(t);
        }
        dispatch(() -> listener.onLeak(report));
    }

    /** When a task is past the grace period: after its context's end, or after its own start if that was later. */
    private long dueAt(TaskRecord t, CtxRecord.EndSeen end) {
        long from = t.startedNanos - end.nanos() > 0 ? t.startedNanos : end.nanos();
        return from + graceNanos;
    }

    // ---- queries ----

    /** Tasks whose owner ended at least the grace period ago and that still run. */
    LeakReport leaks() {
        return report(r -> true, true);
    }

    /** Every live task. */
    LeakReport running() {
        return report(r -> true, false);
    }

    /** Every live task whose owner is {@code root} or below it. */
    LeakReport runningUnder(CancellableContext root) {
        CtxRecord top = find(root);
        if (top == null) {
            return LeakReport.of(instant(time.nanoTime()), List.of());
        }
        return report(r -> under(r, top), false);
    }

    /**
     * Tasks submitted in {@code root}'s subtree that have not started yet (level FULL only). Forks of a TaskGroup
     * whose context is done are not counted: such a group starts none of them, ever.
     */
    int notStartedUnder(CancellableContext root) {
        CtxRecord top = find(root);
        return top == null ? 0 : notStarted(top);
    }

    /** Tasks submitted anywhere that have not started yet (FULL only), or under {@code top} if it is not null. */
    int notStarted(@Nullable CtxRecord top) {
        int n = 0;
        for (CtxRecord r : contexts.values()) {
            int p = r.pending();
            if (p <= 0 || (top != null && !under(r, top))) {
                continue;
            }
            CancellableContext c = r.get();
            if (r.taskGroup && (c == null || c.isDone())) {
                continue;
            }
            n += p;
        }
        return n;
    }

    private static boolean under(CtxRecord r, CtxRecord top) {
        for (CtxRecord a = r; a != null; a = a.parent) {
            if (a == top) {
                return true;
            }
        }
        return false;
    }

    private LeakReport report(Predicate<CtxRecord> scope, boolean leakedOnly) {
        long now = time.nanoTime();
        Map<CtxRecord, ContextInfo> memo = new HashMap<>();
        List<TaskInfo> tasks = new ArrayList<>();
        for (CtxRecord r : contexts.values()) {
            if (!r.hasTasks() || !scope.test(r)) {
                continue;
            }
            for (TaskRecord t : r.tasksIfAny()) {
                if (t.ended) {
                    continue;
                }
                TaskInfo info = describe(t, now, memo);
                if (info != null && (!leakedOnly || info.leaked())) {
                    tasks.add(info);
                }
            }
        }
        return LeakReport.of(instant(now), tasks);
    }

    /** The live tasks of the given records and the contexts to show, for the context map. */
    record Snapshot(Instant takenAt, List<ContextInfo> contexts, List<TaskInfo> tasks, List<LostCancel> lost) {}

    Snapshot snapshot() {
        long now = time.nanoTime();
        Map<CtxRecord, ContextInfo> memo = new HashMap<>();
        java.util.Set<CtxRecord> shownWithAncestors = new java.util.HashSet<>();
        List<TaskInfo> tasks = new ArrayList<>();
        for (CtxRecord r : contexts.values()) {
            CancellableContext c = r.get();
            if (c == null) {
                continue;
            }
            boolean withTasks = false;
            for (TaskRecord t : r.tasksIfAny()) {
                if (t.ended) {
                    continue;
                }
                TaskInfo info = describe(t, now, memo);
                if (info != null) {
                    tasks.add(info);
                    withTasks = true;
                }
            }
            if (withTasks || !c.isDone()) {
                // Every ancestor too, so that each "parent" names a context in the map.
                for (CtxRecord a = r; a != null && shownWithAncestors.add(a); a = a.parent) {
                    memo.computeIfAbsent(a, this::info);
                }
            }
        }
        // Oldest first; among contexts made in the same tick, ancestors before descendants.
        List<CtxRecord> ordered = new ArrayList<>(shownWithAncestors);
        ordered.sort((a, b) -> {
            long byTime = a.createdNanos - b.createdNanos;
            return byTime != 0 ? Long.signum(byTime) : a.depth != b.depth ? Integer.compare(a.depth, b.depth)
                    : Long.compare(number(a.id()), number(b.id()));
        });
        List<ContextInfo> shown = new ArrayList<>(ordered.size());
        for (CtxRecord r : ordered) {
            shown.add(memo.get(r));
        }
        tasks.sort((a, b) -> a.startedAt().compareTo(b.startedAt()));
        List<LostCancel> lost;
        synchronized (recentLostCancels) {
            lost = List.copyOf(recentLostCancels);
        }
        return new Snapshot(instant(now), shown, tasks, lost);
    }

    private static long number(String id) {
        return Long.parseLong(id.substring(1));
    }

    /** A task as reports show it; null if it has ended or its thread is gone. */
    private @Nullable TaskInfo describe(TaskRecord t, long now, Map<CtxRecord, ContextInfo> memo) {
        Thread thread = t.get();
        if (thread == null || t.ended) {
            return null;
        }
        Thread.State state = thread.getState();
        StackTraceElement[] stack = thread.getStackTrace();
        for (int tries = 0; tries < 3; tries++) { // state and stack from the same moment, as far as possible
            Thread.State again = thread.getState();
            if (again == state) {
                break;
            }
            state = again;
            stack = thread.getStackTrace();
        }
        boolean interrupted = thread.isInterrupted();
        if (t.ended || state == Thread.State.TERMINATED || state == Thread.State.NEW) {
            return null; // ended while we looked: its stack may be some other task's
        }
        CtxRecord owner = t.owner;
        CancellableContext c = owner.get();
        boolean done = c != null ? c.isDone() : owner.seen() != null;
        CtxRecord.EndSeen end = owner.seen();
        Long outlived = null;
        boolean leaked = false;
        if (done) {
            long endNanos = end != null ? end.nanos() : now;
            outlived = millis(now - endNanos);
            leaked = end != null && now - dueAt(t, end) >= 0;
        }
        List<ContextInfo> lineage = new ArrayList<>();
        for (CtxRecord a = owner; a != null && lineage.size() < MAX_LINEAGE; a = a.parent) {
            ContextInfo info = memo.get(a);
            if (info == null) {
                info = info(a);
                memo.put(a, info);
            }
            lineage.add(info);
        }
        java.util.Collections.reverse(lineage);
        return new TaskInfo(t.id(), owner.id(), Frames.threadLabel(thread), thread.isVirtual(), state, interrupted,
                instant(t.startedNanos), millis(now - t.startedNanos), leaked, outlived,
                Frames.classify(done, state, stack), Frames.format(t.creation), Frames.trimCurrent(stack), lineage);
    }

    private ContextInfo info(CtxRecord r) {
        CancellableContext c = r.get();
        String parentId = r.parent == null ? null : r.parent.id();
        String kind = kind(r, c);
        if (c == null) { // collected; only a race with the reaper gets here
            CtxRecord.EndSeen seen = r.seen();
            ContextEnd end = seen == null ? null : new ContextEnd(ContextEnd.Type.CANCELLED, null,
                    r.origin != CtxRecord.OWN, seen.thread(), instant(seen.nanos()), seen.site());
            return new ContextInfo(r.id(), parentId, kind, r.label, r.site, instant(r.createdNanos), null, null,
                    seen != null, end);
        }
        boolean done = c.isDone();
        Optional<Instant> deadline = c.deadline();
        Long remaining = deadline.map(d -> millisBetween(c.timeSource().now(), d)).orElse(null);
        return new ContextInfo(r.id(), parentId, kind, r.label, r.site, instant(r.createdNanos),
                deadline.orElse(null), remaining, done, done ? end(r, c) : null);
    }

    private static Long millisBetween(Instant from, Instant to) {
        try {
            return Duration.between(from, to).toMillis();
        } catch (ArithmeticException e) {
            return to.isBefore(from) ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    private static String kind(CtxRecord r, @Nullable CancellableContext c) {
        String k = r.kind;
        if (k != null) {
            return k;
        }
        if (c == null) {
            return "WithCancel";
        }
        Optional<Instant> deadline = c.deadline();
        CancellableContext parent = r.parent == null ? null : r.parent.get();
        boolean own = deadline.isPresent() && (parent == null || !deadline.equals(parent.deadline()));
        // Not sampled, so the method that made it is unknown: a deadline of its own prints as toString() does.
        k = own ? "WithDeadline" : "WithCancel";
        r.kind = k;
        return k;
    }

    /** How a done context ended: its err and cause, and who ended it (an ancestor's end: that ancestor's ender). */
    private ContextEnd end(CtxRecord r, CancellableContext c) {
        ContextDoneException err = c.err();
        ContextEnd.Type type = err instanceof DeadlineExceededException
                ? ContextEnd.Type.DEADLINE_EXCEEDED : ContextEnd.Type.CANCELLED;
        Throwable cause = c.cause();
        String causeText = cause == null || cause == err ? null : ContextEnd.bounded(cause);
        boolean byAncestor = r.origin != CtxRecord.OWN;
        CtxRecord.EndSeen own = r.seen();
        CtxRecord.EndSeen who = own;
        String site = own == null ? null : own.site();
        if (byAncestor) {
            for (CtxRecord a = r.parent; a != null; a = a.parent) {
                CtxRecord.EndSeen seen = a.seen();
                if (a.origin == CtxRecord.OWN && seen != null) {
                    who = seen;
                    // The origin's own stack if it was captured; else ours, taken on the same thread during the
                    // same propagation.
                    site = seen.site() != null ? seen.site()
                            : own != null && own.thread().equals(seen.thread()) ? own.site() : null;
                    break;
                }
            }
        }
        return new ContextEnd(type, causeText, byAncestor, who == null ? null : who.thread(),
                who == null ? null : instant(who.nanos()), site);
    }

    // ---- lost cancels ----

    private void reap() {
        while (!closed) {
            Reference<? extends CancellableContext> cleared;
            try {
                cleared = collected.remove();
            } catch (InterruptedException e) {
                return; // closed
            }
            if (cleared instanceof CtxRecord r) {
                contexts.remove(r);
                if (trackLostCancels && r.sampled && !r.cancelCalled && !closed) {
                    lostCancel(r);
                }
            }
        }
    }

    private void lostCancel(CtxRecord r) {
        long now = time.nanoTime();
        LostCancel lost = new LostCancel(r.id(), r.kind != null ? r.kind : "WithCancel", r.site,
                instant(r.createdNanos), millis(now - r.createdNanos));
        synchronized (recentLostCancels) {
            if (recentLostCancels.size() == RECENT_LOST_CANCELS) {
                recentLostCancels.removeFirst();
            }
            recentLostCancels.addLast(lost);
        }
        JfrBridge.lostCancel(lost);
        dispatch(() -> listener.onLostCancel(lost));
    }

    // ---- plumbing ----

    Instant instant(long nanos) {
        return anchorInstant.plusNanos(nanos - anchorNanos);
    }

    private static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    private void execute(Runnable task) {
        try {
            worker.execute(task);
        } catch (RejectedExecutionException e) {
            // closed meanwhile: nothing to report to
        }
    }

    /** Calls the listener; a listener that throws is logged, never allowed to break the tracker. */
    private static void dispatch(Runnable call) {
        try {
            call.run();
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.WARNING, "LeakListener threw; the report is dropped", t);
        }
    }

    /** Records kept; for tests of retention. */
    int trackedContexts() {
        return contexts.size();
    }

    void close() {
        closed = true;
        reaper.interrupt();
        worker.shutdownNow();
        contexts.clear();
    }
}
