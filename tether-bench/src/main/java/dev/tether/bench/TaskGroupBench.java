package dev.tether.bench;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.TaskGroup;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Forking a no-op task on a new virtual thread and waiting for it, once and ten times: a {@link TaskGroup}
 * (open in a live request context, fork, join, close) against the JDK doing the same work without structure, a
 * long-lived {@code Executors.newVirtualThreadPerTaskExecutor()} (submit, {@code Future.get}) and a raw
 * {@code Thread.ofVirtual().start(r)} + {@code join()}. Each fork is a new virtual thread in every peer, started
 * and waited for from the benchmark's platform thread, so the figures include the hand-off to a carrier thread
 * and the wake-up back; on 2 cores they move with the machine's load more than any other row.
 *
 * <p>The JDK's {@code StructuredTaskScope} is not a peer: it is a preview API on Java 21 (JEP 453) and its API
 * changed in Java 25 (JEP 505, {@code StructuredTaskScope.open()}), so one benchmark cannot call both, and this
 * module compiles at {@code --release 21} without preview features. The group's extra work over the executor is
 * its context (a withCancel child of the request, bound in each fork, cancelled at close), each fork's interrupt
 * guard and state, and close's wait for the threads it started.
 *
 * <p>Run: {@code tether-bench/run.sh --jmh TaskGroupBench -prof gc} (or {@code run.sh --quick TaskGroupBench}
 * for the table rows). No Go counterpart yet.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class TaskGroupBench {

    private static final int MANY = 10;

    private CancellableContext request;
    private ExecutorService executor;
    private Thread.Builder.OfVirtual virtual;
    private Callable<Object> task;
    private Runnable noop;
    private final TaskGroup.Fork<?>[] forks = new TaskGroup.Fork<?>[MANY];
    private final Future<?>[] futures = new Future<?>[MANY];
    private final Thread[] threads = new Thread[MANY];

    @Setup
    public void setUp() {
        request = Context.background().withCancel();
        executor = Executors.newVirtualThreadPerTaskExecutor();
        virtual = Thread.ofVirtual();
        Object token = new Object();
        task = () -> token;
        noop = () -> {};
    }

    @TearDown
    public void tearDown() {
        executor.close();
        request.cancel();
    }

    /** Open a group in a live context, fork one no-op task on a virtual thread, join, close. */
    @Benchmark
    public Object tether_fork1() throws Exception {
        try (TaskGroup group = TaskGroup.open(request)) {
            TaskGroup.Fork<Object> fork = group.fork(task);
            group.join();
            return fork.get();
        }
    }

    /** Submit one no-op task to a virtual-thread-per-task executor, Future.get. */
    @Benchmark
    public Object jdk_fork1() throws Exception {
        return executor.submit(task).get();
    }

    /** Start one virtual thread running a no-op Runnable, join it. */
    @Benchmark
    public Thread jdkThread_fork1() throws InterruptedException {
        Thread thread = virtual.start(noop);
        thread.join();
        return thread;
    }

    /** Open a group in a live context, fork ten no-op tasks, join, read the ten results, close. */
    @Benchmark
    public void tether_fork10(Blackhole bh) throws Exception {
        try (TaskGroup group = TaskGroup.open(request)) {
            for (int i = 0; i < MANY; i++) {
                forks[i] = group.fork(task);
            }
            group.join();
            for (int i = 0; i < MANY; i++) {
                bh.consume(forks[i].get());
            }
        }
    }

    /** Submit ten no-op tasks to a virtual-thread-per-task executor, then Future.get each. */
    @Benchmark
    public void jdk_fork10(Blackhole bh) throws Exception {
        for (int i = 0; i < MANY; i++) {
            futures[i] = executor.submit(task);
        }
        for (int i = 0; i < MANY; i++) {
            bh.consume(futures[i].get());
        }
    }

    /** Start ten virtual threads running a no-op Runnable, then join each. */
    @Benchmark
    public void jdkThread_fork10(Blackhole bh) throws InterruptedException {
        for (int i = 0; i < MANY; i++) {
            threads[i] = virtual.start(noop);
        }
        for (int i = 0; i < MANY; i++) {
            threads[i].join();
            bh.consume(threads[i]);
        }
    }
}
