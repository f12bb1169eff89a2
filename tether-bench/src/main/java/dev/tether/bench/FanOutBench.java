package dev.tether.bench;

import dev.tether.CancellableContext;
import dev.tether.Context;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
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
 * Cancelling a parent with {@code fanOut} live children: what one cancel costs when a request ends with many
 * sub-calls in flight. Each benchmark's score is the time for the whole tree; the table divides it by
 * {@code fanOut} to give the cost per child. The tree is built before each invocation, outside the measurement,
 * so JMH's B/op for these benchmarks counts the building too and the table leaves it out.
 *
 * <p>Two shapes. {@code listeners}: every child has one done-listener (direct executor) that must run, the same
 * work for Tether and gRPC. {@code plain}: children without listeners; Tether and Go link every child and end
 * each one, while gRPC does not link a child without listeners at all (each finds out on its next
 * {@code isCancelled()}), so gRPC has no fan-out to measure there.
 *
 * <p>Run: {@code tether-bench/run.sh --jmh FanOutBench -prof gc}. Go: {@code fanOut} in {@code go/main.go}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FanOutBench {

    /** A Tether parent whose children each have one listener; rebuilt for every invocation. */
    @State(Scope.Thread)
    public static class TetherListeners {
        @Param({"1000", "100000"})
        int fanOut;

        CancellableContext parent;
        Runnable action;
        // written by the listeners on the benchmark thread, checked after each invocation
        int fired;

        @Setup(Level.Trial)
        public void action() {
            action = () -> fired++;
        }

        @Setup(Level.Invocation)
        public void build() {
            fired = 0;
            parent = Context.background().withCancel();
            for (int i = 0; i < fanOut; i++) {
                parent.withCancel().onDone(action, Peers.DIRECT);
            }
        }

        @TearDown(Level.Invocation)
        public void check() {
            if (fired != fanOut) {
                throw new AssertionError(fired + " of " + fanOut + " listeners ran");
            }
        }
    }

    /** A gRPC parent whose children each have one listener; rebuilt for every invocation. */
    @State(Scope.Thread)
    public static class GrpcListeners {
        @Param({"1000", "100000"})
        int fanOut;

        io.grpc.Context.CancellableContext parent;
        io.grpc.Context.CancellationListener listener;
        // written by the listeners on the benchmark thread, checked after each invocation
        int fired;

        @Setup(Level.Trial)
        public void listener() {
            listener = context -> fired++;
        }

        @Setup(Level.Invocation)
        public void build() {
            fired = 0;
            parent = io.grpc.Context.ROOT.withCancellation();
            for (int i = 0; i < fanOut; i++) {
                parent.withCancellation().addListener(listener, Peers.DIRECT);
            }
        }

        @TearDown(Level.Invocation)
        public void check() {
            if (fired != fanOut) {
                throw new AssertionError(fired + " of " + fanOut + " listeners ran");
            }
        }
    }

    /** A Tether parent with plain children; rebuilt for every invocation. */
    @State(Scope.Thread)
    public static class TetherPlain {
        @Param({"1000", "100000"})
        int fanOut;

        CancellableContext parent;
        CancellableContext last;

        @Setup(Level.Invocation)
        public void build() {
            parent = Context.background().withCancel();
            for (int i = 0; i < fanOut; i++) {
                last = parent.withCancel();
            }
        }

        @TearDown(Level.Invocation)
        public void check() {
            if (!last.isDone()) {
                throw new AssertionError("a child outlived its parent");
            }
        }
    }

    /** Cancel a parent whose children each have one listener: end every child, run every listener. */
    @Benchmark
    public CancellableContext tether_listeners(TetherListeners tree) {
        tree.parent.cancel();
        return tree.parent;
    }

    /** Cancel a parent whose children each have one listener: end every child, run every listener. */
    @Benchmark
    public io.grpc.Context.CancellableContext grpc_listeners(GrpcListeners tree) {
        tree.parent.cancel(null);
        return tree.parent;
    }

    /** Cancel a parent with plain children: end every child. */
    @Benchmark
    public CancellableContext tether_plain(TetherPlain tree) {
        tree.parent.cancel();
        return tree.parent;
    }
}
