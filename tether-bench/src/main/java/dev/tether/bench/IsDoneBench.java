package dev.tether.bench;

import dev.tether.CancellableContext;
import dev.tether.Context;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Asking a live context whether it is done, at the bottom of a chain of {@code depth} cancellable contexts: the
 * check a loop makes on every turn. gRPC's {@code isCancelled()} takes the lock of each cancellable ancestor in
 * turn, unless a listener has linked the chain; Tether's reads one field. No deadline is involved (see
 * {@link RequestBench} for that).
 *
 * <p>Run: {@code tether-bench/run.sh --jmh IsDoneBench}.
 * Go: {@code isDone} in {@code go/main.go} ({@code ctx.Err() != nil}).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class IsDoneBench {

    @Param({"1", "10", "100"})
    int depth;

    private CancellableContext tetherLeaf;
    private io.grpc.Context.CancellableContext grpcLeaf;
    private final List<CancellableContext> tetherChain = new ArrayList<>();
    private final List<io.grpc.Context.CancellableContext> grpcChain = new ArrayList<>();

    @Setup
    public void setUp() {
        Context tether = Context.background();
        io.grpc.Context grpc = io.grpc.Context.ROOT;
        for (int i = 0; i < depth; i++) {
            tetherLeaf = tether.withCancel();
            grpcLeaf = grpc.withCancellation();
            tetherChain.add(tetherLeaf);
            grpcChain.add(grpcLeaf);
            tether = tetherLeaf;
            grpc = grpcLeaf;
        }
    }

    @TearDown
    public void tearDown() {
        if (tetherLeaf.isDone() || grpcLeaf.isCancelled()) {
            throw new AssertionError("the chain ended during the benchmark");
        }
        tetherChain.get(0).cancel();
        grpcChain.get(0).cancel(null);
    }

    /** isDone() on the leaf of a live chain of cancellable contexts. */
    @Benchmark
    public boolean tether_check() {
        return tetherLeaf.isDone();
    }

    /** isCancelled() on the leaf of a live chain of cancellable contexts. */
    @Benchmark
    public boolean grpc_check() {
        return grpcLeaf.isCancelled();
    }
}
