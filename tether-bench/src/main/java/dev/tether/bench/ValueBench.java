package dev.tether.bench;

import dev.tether.Context;
import dev.tether.Key;
import io.opentelemetry.context.ContextKey;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Request-scoped values on a context that carries {@code depth} of them, each bound by its own
 * {@code withValue} under its own key: reading one, and adding one more.
 *
 * <p>The key read is the one bound first, the farthest from the leaf: the worst case for a chain that is
 * walked from the leaf (Go), and for OpenTelemetry, whose array keeps entries in binding order and is scanned
 * from the oldest, the best case. gRPC and Tether use hash tries, where the position does not matter.
 *
 * <p>Run: {@code tether-bench/run.sh --jmh ValueBench -prof gc}.
 * Go: {@code valueLookup}, {@code valueAdd} in {@code go/main.go}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class ValueBench {

    @Param({"1", "10", "100"})
    int depth;

    private Key<Object> tetherFirst;
    private Key<Object> tetherExtra;
    private Context tetherLeaf;
    private io.grpc.Context.Key<Object> grpcFirst;
    private io.grpc.Context.Key<Object> grpcExtra;
    private io.grpc.Context grpcLeaf;
    private ContextKey<Object> otelFirst;
    private ContextKey<Object> otelExtra;
    private io.opentelemetry.context.Context otelLeaf;
    private Object value;

    @Setup
    public void setUp() {
        value = new Object();
        tetherLeaf = Context.background();
        grpcLeaf = io.grpc.Context.ROOT;
        otelLeaf = io.opentelemetry.context.Context.root();
        for (int i = 0; i < depth; i++) {
            Key<Object> tetherKey = Key.of("k" + i);
            io.grpc.Context.Key<Object> grpcKey = io.grpc.Context.key("k" + i);
            ContextKey<Object> otelKey = ContextKey.named("k" + i);
            if (i == 0) {
                tetherFirst = tetherKey;
                grpcFirst = grpcKey;
                otelFirst = otelKey;
            }
            Object v = "v" + i;
            tetherLeaf = tetherLeaf.withValue(tetherKey, v);
            grpcLeaf = grpcLeaf.withValue(grpcKey, v);
            otelLeaf = otelLeaf.with(otelKey, v);
        }
        tetherExtra = Key.of("extra");
        grpcExtra = io.grpc.Context.key("extra");
        otelExtra = ContextKey.named("extra");
        if (!"v0".equals(tether_lookup()) || !"v0".equals(grpc_lookup()) || !"v0".equals(otel_lookup())) {
            throw new AssertionError("lookup does not find the first value");
        }
    }

    /** Read the value bound first, from the leaf. */
    @Benchmark
    public Object tether_lookup() {
        return tetherLeaf.value(tetherFirst);
    }

    /** Read the value bound first, from the leaf. */
    @Benchmark
    public Object grpc_lookup() {
        return grpcFirst.get(grpcLeaf);
    }

    /** Read the value bound first, from the leaf. */
    @Benchmark
    public Object otel_lookup() {
        return otelLeaf.get(otelFirst);
    }

    /** Derive a child of the leaf with one more value. */
    @Benchmark
    public Context tether_add() {
        return tetherLeaf.withValue(tetherExtra, value);
    }

    /** Derive a child of the leaf with one more value. */
    @Benchmark
    public io.grpc.Context grpc_add() {
        return grpcLeaf.withValue(grpcExtra, value);
    }

    /** Derive a child of the leaf with one more value (OpenTelemetry copies its whole array). */
    @Benchmark
    public io.opentelemetry.context.Context otel_add() {
        return otelLeaf.with(otelExtra, value);
    }
}
