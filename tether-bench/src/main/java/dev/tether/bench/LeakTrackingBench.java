package dev.tether.bench;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.TaskGroup;
import dev.tether.leak.LeakDetector;
import dev.tether.leak.LeakListener;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What leak detection costs per task and per context, at each {@link LeakDetector.Level} against no detector at
 * all: {@code ctx.run} of an empty task (the task hooks alone: submitted, started, ended), a {@link TaskGroup}
 * fork of an empty task on a virtual thread (open, fork, join, close: a context and a task, plus the thread), and
 * a {@code withCancel} + {@code cancel} of a child of a live request (the context hooks alone).
 *
 * <p>Methods are {@code <level>_<operation>}: {@code none} installs nothing; {@code off} installs a detector at
 * {@link LeakDetector.Level#OFF}, which installs no observer; {@code sampled} (the default level) records every
 * task and context and captures the creation stack of one in 64; {@code full} captures every stack. Each level
 * gets its own state class, so each benchmark's fork installs only its own detector, and fails at tear-down if
 * that detector found a leak (every task here ends at once).
 *
 * <p>Run: {@code tether-bench/run.sh --jmh LeakTrackingBench -prof gc} (or {@code run.sh --quick
 * LeakTrackingBench} for the table rows). No Go counterpart.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class LeakTrackingBench {

    /** A live request context, and a detector at a level (or none); closed at tear-down. */
    public abstract static class Tracked {
        private final LeakDetector.Level level; // null: no detector
        private LeakDetector detector;
        CancellableContext request;
        Runnable empty;
        Callable<Object> emptyCall;
        final AtomicLong ran = new AtomicLong();

        Tracked(LeakDetector.Level level) {
            this.level = level;
        }

        @Setup(Level.Trial)
        public void setUp() {
            if (level != null) {
                // A long grace period and no lost-cancel reaping: the benchmark measures the recording, not
                // checks, and its contexts are all cancelled.
                detector = LeakDetector.install(LeakDetector.Options.defaults()
                        .withLevel(level)
                        .withGracePeriod(Duration.ofMinutes(1))
                        .withListener(LeakListener.none()));
            }
            request = Context.background().withCancel();
            Object token = new Object();
            empty = ran::incrementAndGet;
            emptyCall = () -> token;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            request.cancel();
            if (detector != null) {
                if (!detector.leaks().isEmpty()) {
                    throw new IllegalStateException("the benchmark leaked: " + detector.leaks().toText());
                }
                detector.close();
            }
        }
    }

    /** No detector installed: Tether's hooks find no observer. */
    @State(Scope.Thread)
    public static class None extends Tracked {
        public None() {
            super(null);
        }
    }

    /** A detector at OFF. */
    @State(Scope.Thread)
    public static class Off extends Tracked {
        public Off() {
            super(LeakDetector.Level.OFF);
        }
    }

    /** A detector at SAMPLED, the default. */
    @State(Scope.Thread)
    public static class Sampled extends Tracked {
        public Sampled() {
            super(LeakDetector.Level.SAMPLED);
        }
    }

    /** A detector at FULL. */
    @State(Scope.Thread)
    public static class Full extends Tracked {
        public Full() {
            super(LeakDetector.Level.FULL);
        }
    }

    // ---- ctx.run of an empty task ----

    /** request.run(empty task), no detector. */
    @Benchmark
    public long none_run(None s) {
        s.request.run(s.empty);
        return s.ran.get();
    }

    /** request.run(empty task), detector at OFF. */
    @Benchmark
    public long off_run(Off s) {
        s.request.run(s.empty);
        return s.ran.get();
    }

    /** request.run(empty task), detector at SAMPLED. */
    @Benchmark
    public long sampled_run(Sampled s) {
        s.request.run(s.empty);
        return s.ran.get();
    }

    /** request.run(empty task), detector at FULL. */
    @Benchmark
    public long full_run(Full s) {
        s.request.run(s.empty);
        return s.ran.get();
    }

    // ---- TaskGroup fork of an empty task ----

    /** TaskGroup open + fork an empty task on a virtual thread + join + close, no detector. */
    @Benchmark
    public Object none_fork(None s) throws Exception {
        return fork(s);
    }

    /** The same, detector at OFF. */
    @Benchmark
    public Object off_fork(Off s) throws Exception {
        return fork(s);
    }

    /** The same, detector at SAMPLED. */
    @Benchmark
    public Object sampled_fork(Sampled s) throws Exception {
        return fork(s);
    }

    /** The same, detector at FULL. */
    @Benchmark
    public Object full_fork(Full s) throws Exception {
        return fork(s);
    }

    private static Object fork(Tracked s) throws Exception {
        try (TaskGroup group = TaskGroup.open(s.request)) {
            TaskGroup.Fork<Object> fork = group.fork(s.emptyCall);
            group.join();
            return fork.get();
        }
    }

    // ---- withCancel + cancel ----

    /** request.withCancel() + cancel(), no detector. */
    @Benchmark
    public CancellableContext none_context(None s) {
        return context(s);
    }

    /** The same, detector at OFF. */
    @Benchmark
    public CancellableContext off_context(Off s) {
        return context(s);
    }

    /** The same, detector at SAMPLED. */
    @Benchmark
    public CancellableContext sampled_context(Sampled s) {
        return context(s);
    }

    /** The same, detector at FULL. */
    @Benchmark
    public CancellableContext full_context(Full s) {
        return context(s);
    }

    private static CancellableContext context(Tracked s) {
        CancellableContext child = s.request.withCancel();
        child.cancel();
        return child;
    }
}
