package dev.tether.bench;

import dev.tether.CancellableContext;
import dev.tether.Context;
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

/**
 * The life of a cancellable child that nobody cancels from above: create it, cancel it. Tether against
 * {@code io.grpc.Context}; OpenTelemetry's Context has no cancellation.
 *
 * <p>Run: {@code tether-bench/run.sh --jmh WithCancelBench -prof gc} (or {@code run.sh --quick WithCancelBench}
 * for the table rows). Go: {@code withCancel*} in {@code go/main.go}.
 *
 * <p>gRPC links a child into a cancellable parent only once the child gets a listener; until then the child
 * finds out about its parent by walking up on each {@code isCancelled()}. Tether links every cancellable child
 * at once, so {@code ofCancellable} does more work in Tether, and buys the flat is-done check of
 * {@link IsDoneBench}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class WithCancelBench {

    private Context tetherRoot;
    private CancellableContext tetherParent;
    private io.grpc.Context grpcRoot;
    private io.grpc.Context.CancellableContext grpcParent;

    @Setup
    public void setUp() {
        tetherRoot = Context.background();
        tetherParent = tetherRoot.withCancel();
        grpcRoot = io.grpc.Context.ROOT;
        grpcParent = grpcRoot.withCancellation();
    }

    @TearDown
    public void tearDown() {
        tetherParent.cancel();
        grpcParent.cancel(null);
    }

    /** The done-listeners, and a check at tear-down that they really ran. */
    @State(Scope.Thread)
    public static class Listeners {
        Runnable tether;
        io.grpc.Context.CancellationListener grpc;
        // written by the listeners on the benchmark thread, read at tear-down
        long fired;

        @Setup
        public void setUp() {
            tether = () -> fired++;
            grpc = context -> fired++;
        }

        @TearDown
        public void tearDown() {
            if (fired == 0) {
                throw new AssertionError("no done-listener ran");
            }
        }
    }

    /** A child of the root: create, cancel. */
    @Benchmark
    public CancellableContext tether_ofRoot() {
        CancellableContext child = tetherRoot.withCancel();
        child.cancel();
        return child;
    }

    /** A child of the root: create, cancel. */
    @Benchmark
    public io.grpc.Context.CancellableContext grpc_ofRoot() {
        io.grpc.Context.CancellableContext child = grpcRoot.withCancellation();
        child.cancel(null);
        return child;
    }

    /** A child of a live cancellable parent: create (Tether links it into the parent), cancel (and unlink). */
    @Benchmark
    public CancellableContext tether_ofCancellable() {
        CancellableContext child = tetherParent.withCancel();
        child.cancel();
        return child;
    }

    /** A child of a live cancellable parent: create (gRPC does not link it yet), cancel. */
    @Benchmark
    public io.grpc.Context.CancellableContext grpc_ofCancellable() {
        io.grpc.Context.CancellableContext child = grpcParent.withCancellation();
        child.cancel(null);
        return child;
    }

    /** A child of the root with one done-listener on a direct executor: create, register, cancel (runs it). */
    @Benchmark
    public CancellableContext tether_withListener(Listeners listeners) {
        CancellableContext child = tetherRoot.withCancel();
        child.onDone(listeners.tether, Peers.DIRECT);
        child.cancel();
        return child;
    }

    /** A child of the root with one cancellation listener on a direct executor: create, add, cancel (runs it). */
    @Benchmark
    public io.grpc.Context.CancellableContext grpc_withListener(Listeners listeners) {
        io.grpc.Context.CancellableContext child = grpcRoot.withCancellation();
        child.addListener(listeners.grpc, Peers.DIRECT);
        child.cancel(null);
        return child;
    }
}
