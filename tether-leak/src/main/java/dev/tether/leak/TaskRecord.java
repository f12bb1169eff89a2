package dev.tether.leak;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * One task that started through Tether and has not ended: a weak reference to its thread (the tracker never
 * keeps a thread alive), its owner's record, when it started and, if sampled, its creation stack. It is in its
 * owner's task set from start to end; the task's end removes it.
 */
final class TaskRecord extends WeakReference<Thread> {

    private static final AtomicLong IDS = new AtomicLong();
    private static final VarHandle REPORTED;
    private static final VarHandle ID;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            REPORTED = lookup.findVarHandle(TaskRecord.class, "reported", boolean.class);
            ID = lookup.findVarHandle(TaskRecord.class, "id", String.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final CtxRecord owner;
    /** On the tracker's time source. */
    final long startedNanos;
    final StackTraceElement @Nullable [] creation;
    /** Set once by the task's own thread when it ends; read by checks. */
    volatile boolean ended;
    /** Set once by the check that reported it as leaked (CAS), so each leak is reported once. */
    private volatile boolean reported;
    private volatile @Nullable String id;

    TaskRecord(CtxRecord owner, Thread thread, long startedNanos, StackTraceElement @Nullable [] creation) {
        super(thread);
        this.owner = owner;
        this.startedNanos = startedNanos;
        this.creation = creation;
    }

    String id() {
        String i = id;
        if (i == null) {
            String fresh = "t" + IDS.incrementAndGet();
            i = ID.compareAndSet(this, null, fresh) ? fresh : id;
        }
        return java.util.Objects.requireNonNull(i);
    }

    boolean reported() {
        return reported;
    }

    /** True for the one check that gets to report this task. */
    boolean markReported() {
        return !reported && REPORTED.compareAndSet(this, false, true);
    }
}
