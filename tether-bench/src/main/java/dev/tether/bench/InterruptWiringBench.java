package dev.tether.bench;

import dev.tether.Blocking;
import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ContextExecutors;
import dev.tether.Scope;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the interruption wiring costs when nothing has to wait: {@link Blocking}'s waits and
 * {@link ContextExecutors#cancelling}'s tasks against the plain JDK call on the same thread, where the plain call
 * returns at once. So each figure is the wiring alone: the done check, the onDone registration that would
 * interrupt the waiting thread, its interrupt guard, and removing both afterwards. Everything runs in a live,
 * cancellable request context (a context that can never end, such as {@code background()}, would make the
 * registration free).
 *
 * <ul>
 *   <li>{@code awaitCompleted}: {@code Blocking.await(ctx, f)} against {@code f.get()} on a completed
 *       CompletableFuture.</li>
 *   <li>{@code takeReady}: {@code Blocking.take(ctx, q)} against {@code q.take()} on an ArrayBlockingQueue that
 *       holds an element; both peers put it back with {@code offer} so the next take finds it too.</li>
 *   <li>{@code sleepZero}: {@code Blocking.sleep(ctx, Duration.ZERO)} against {@code Thread.sleep(0)}, which is
 *       not free on the JDK: on a platform thread it may yield the CPU.</li>
 *   <li>{@code cancellingSubmit}: {@code cancelling(direct).submit(task).get()} against
 *       {@code direct.submit(task).get()}, where {@code direct} is an ExecutorService that runs the task on the
 *       submitting thread; the request context is bound on the benchmark thread, so the cancelling task registers
 *       with it and binds it while it runs.</li>
 * </ul>
 *
 * <p>Run: {@code tether-bench/run.sh --jmh InterruptWiringBench -prof gc} (or
 * {@code run.sh --quick InterruptWiringBench} for the table rows). No Go counterpart: Go's {@code select} on
 * {@code ctx.Done()} is a different thing to measure.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(org.openjdk.jmh.annotations.Scope.Thread)
public class InterruptWiringBench {

    private CancellableContext request;
    private Scope bound;
    private CompletableFuture<Object> completed;
    private BlockingQueue<Object> queue;
    private Duration zero;
    private ExecutorService direct;
    private ExecutorService cancelling;
    private Callable<Object> task;

    @Setup
    public void setUp() {
        request = Context.background().withCancel();
        Object token = new Object();
        completed = CompletableFuture.completedFuture(token);
        queue = new ArrayBlockingQueue<>(1);
        queue.add(token);
        zero = Duration.ZERO;
        direct = new DirectExecutorService();
        cancelling = ContextExecutors.cancelling(direct);
        task = () -> token;
    }

    @TearDown
    public void tearDown() {
        cancelling.shutdown();
        request.cancel();
        if (queue.size() != 1) {
            throw new AssertionError("the queue lost its element");
        }
    }

    /**
     * Binds the request on the thread that runs the iteration (JMH may use another thread for the next one):
     * cancelling() takes the context current at submission.
     */
    @Setup(Level.Iteration)
    public void bind() {
        bound = request.attach();
    }

    @TearDown(Level.Iteration)
    public void unbind() {
        // attach() binds a view of the request without cancel(), so the check is that something was bound
        boolean current = Context.current() != Context.background();
        bound.close();
        if (!current) {
            throw new AssertionError("the request context was not current on the benchmark thread");
        }
        if (Thread.currentThread().isInterrupted()) {
            throw new AssertionError("an interrupt leaked to the benchmark thread");
        }
    }

    /** Blocking.await of an already-completed CompletableFuture in a live context. */
    @Benchmark
    public Object tether_awaitCompleted() throws Exception {
        return Blocking.await(request, completed);
    }

    /** Future.get of an already-completed CompletableFuture. */
    @Benchmark
    public Object jdk_awaitCompleted() throws Exception {
        return completed.get();
    }

    /** Blocking.take from a queue holding an element in a live context, then offer it back. */
    @Benchmark
    public Object tether_takeReady() {
        Object head = Blocking.take(request, queue);
        queue.offer(head);
        return head;
    }

    /** BlockingQueue.take from a queue holding an element, then offer it back. */
    @Benchmark
    public Object jdk_takeReady() throws InterruptedException {
        Object head = queue.take();
        queue.offer(head);
        return head;
    }

    /** Blocking.sleep for zero in a live context (checks the context, returns). */
    @Benchmark
    public Duration tether_sleepZero() {
        Blocking.sleep(request, zero);
        return zero;
    }

    /** Thread.sleep for zero (checks the interrupt; may yield on a platform thread). */
    @Benchmark
    public Duration jdk_sleepZero() throws InterruptedException {
        Thread.sleep(zero);
        return zero;
    }

    /** Submit a no-op task to cancelling(direct executor) with a live context current, Future.get. */
    @Benchmark
    public Object tether_cancellingSubmit() throws Exception {
        return cancelling.submit(task).get();
    }

    /** Submit a no-op task to the direct executor, Future.get. */
    @Benchmark
    public Object jdk_cancellingSubmit() throws Exception {
        return direct.submit(task).get();
    }

    /** An ExecutorService that runs each task on the submitting thread (AbstractExecutorService's FutureTask). */
    static final class DirectExecutorService extends AbstractExecutorService {
        private volatile boolean shutdown;

        @Override
        public void execute(Runnable command) {
            command.run();
        }

        @Override
        public void shutdown() {
            shutdown = true;
        }

        @Override
        public List<Runnable> shutdownNow() {
            shutdown = true;
            return List.of();
        }

        @Override
        public boolean isShutdown() {
            return shutdown;
        }

        @Override
        public boolean isTerminated() {
            return shutdown;
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return shutdown;
        }
    }
}
