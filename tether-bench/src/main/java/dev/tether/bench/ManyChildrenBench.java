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
import org.openjdk.jmh.infra.Blackhole;

/**
 * A long-lived parent (a server, a connection) that sees {@code children} short requests one after another, each
 * a child with one done-listener, each cancelled on its own. The score is the time for all of them, one shot per
 * iteration on a fresh parent: a peer that leaves something behind in the parent for every finished child pays
 * for it on every later child. gRPC keeps each child's registration in the parent after the child is cancelled
 * (it asks the parent to remove a registration it filed under another context), so its cost grows with the
 * square of the number of children; {@link RetainedMemory} reports what stays behind.
 *
 * <p>Warm-up differs per peer, on purpose: a Tether shot takes milliseconds, so it needs ten shots before the JIT
 * has compiled the loop; a gRPC shot takes seconds, so JIT time is a small part of even the first one, and more
 * shots would only make the run long. run.sh keeps these counts (it passes only the fork count, except in the
 * smoke run).
 *
 * <p>Run: {@code tether-bench/run.sh --jmh ManyChildrenBench -p children=10000}.
 * Go: {@code manyChildren} in {@code go/main.go}.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 10)
@Measurement(iterations = 10)
@Fork(1)
public class ManyChildrenBench {

    /** A fresh Tether parent per shot, and a check that every child's listener ran. */
    @State(Scope.Thread)
    public static class TetherParent {
        @Param({"100000"})
        int children;

        CancellableContext parent;
        Runnable action;
        // written by the listeners on the benchmark thread, checked after each shot
        int fired;

        @Setup(Level.Invocation)
        public void setUp() {
            parent = Context.background().withCancel();
            action = () -> fired++;
            fired = 0;
        }

        @TearDown(Level.Invocation)
        public void tearDown() {
            if (fired != children || parent.isDone()) {
                throw new AssertionError(fired + " of " + children + " listeners ran");
            }
            parent.cancel();
        }
    }

    /** A fresh gRPC parent per shot, and a check that every child's listener ran. */
    @State(Scope.Thread)
    public static class GrpcParent {
        @Param({"100000"})
        int children;

        io.grpc.Context.CancellableContext parent;
        io.grpc.Context.CancellationListener listener;
        // written by the listeners on the benchmark thread, checked after each shot
        int fired;

        @Setup(Level.Invocation)
        public void setUp() {
            parent = io.grpc.Context.ROOT.withCancellation();
            listener = context -> fired++;
            fired = 0;
        }

        @TearDown(Level.Invocation)
        public void tearDown() {
            if (fired != children || parent.isCancelled()) {
                throw new AssertionError(fired + " of " + children + " listeners ran");
            }
            parent.cancel(null);
        }
    }

    /** {@code children} times: withCancel() of the parent, onDone(listener), cancel(). */
    @Benchmark
    public void tether_each(TetherParent s, Blackhole bh) {
        for (int i = 0; i < s.children; i++) {
            CancellableContext child = s.parent.withCancel();
            child.onDone(s.action, Peers.DIRECT);
            bh.consume(child.cancel());
        }
    }

    /** {@code children} times: withCancellation() of the parent, addListener(listener), cancel(). */
    @Benchmark
    @Warmup(iterations = 0)
    @Measurement(iterations = 2)
    public void grpc_each(GrpcParent s, Blackhole bh) {
        for (int i = 0; i < s.children; i++) {
            io.grpc.Context.CancellableContext child = s.parent.withCancellation();
            child.addListener(s.listener, Peers.DIRECT);
            bh.consume(child.cancel(null));
        }
    }
}
