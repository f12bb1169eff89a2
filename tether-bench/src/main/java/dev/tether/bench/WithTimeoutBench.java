package dev.tether.bench;

import dev.tether.CancellableContext;
import dev.tether.Context;
import java.time.Duration;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * A context with a deadline that is cancelled long before it passes, the common case for a request timeout.
 * gRPC schedules a task on its timer for every such context and cancels it again; Tether schedules nothing
 * unless someone waits on the deadline. OpenTelemetry's Context has no deadlines.
 *
 * <p>Run: {@code tether-bench/run.sh --jmh WithTimeoutBench -prof gc}.
 * Go: {@code withTimeoutOneHour} in {@code go/main.go}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class WithTimeoutBench {

    private Context tetherRoot;
    private Duration oneHour;
    private io.grpc.Context grpcRoot;
    private long oneHourNanos;

    @Setup
    public void setUp() {
        tetherRoot = Context.background();
        oneHour = Duration.ofHours(1);
        grpcRoot = io.grpc.Context.ROOT;
        oneHourNanos = oneHour.toNanos();
    }

    /** withTimeout(1 h) on the root, then cancel. */
    @Benchmark
    public CancellableContext tether_oneHour() {
        CancellableContext child = tetherRoot.withTimeout(oneHour);
        child.cancel();
        return child;
    }

    /** withDeadlineAfter(1 h) on the root (schedules a task on the shared timer), then cancel (unschedules it). */
    @Benchmark
    public io.grpc.Context.CancellableContext grpc_oneHour() {
        io.grpc.Context.CancellableContext child =
                grpcRoot.withDeadlineAfter(oneHourNanos, TimeUnit.NANOSECONDS, Peers.GRPC_TIMER);
        child.cancel(null);
        return child;
    }
}
