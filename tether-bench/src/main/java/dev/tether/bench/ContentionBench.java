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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Two threads creating and cancelling children of one shared live parent, as two request threads do under one
 * server-wide context. The score is JMH's average time per operation on each thread. Tether links every child
 * into the parent, so the two threads meet on the parent's child set; gRPC links a child only once it has a
 * listener, so without listeners its threads never touch the parent (with listeners, gRPC's parent would keep
 * every finished child, see {@link ManyChildrenBench}, so that variant is not run).
 *
 * <p>Run: {@code tether-bench/run.sh --jmh ContentionBench -prof gc}. Go: {@code contention} in {@code go/main.go}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@Threads(2)
@State(Scope.Benchmark)
public class ContentionBench {

    private CancellableContext tetherParent;
    private io.grpc.Context.CancellableContext grpcParent;

    @Setup
    public void setUp() {
        tetherParent = Context.background().withCancel();
        grpcParent = io.grpc.Context.ROOT.withCancellation();
    }

    @TearDown
    public void tearDown() {
        tetherParent.cancel();
        grpcParent.cancel(null);
    }

    /** On each of two threads: withCancel() of the shared parent, cancel(). */
    @Benchmark
    public CancellableContext tether_twoThreads() {
        CancellableContext child = tetherParent.withCancel();
        child.cancel();
        return child;
    }

    /** On each of two threads: withCancellation() of the shared parent, cancel(). */
    @Benchmark
    public io.grpc.Context.CancellableContext grpc_twoThreads() {
        io.grpc.Context.CancellableContext child = grpcParent.withCancellation();
        child.cancel(null);
        return child;
    }
}
