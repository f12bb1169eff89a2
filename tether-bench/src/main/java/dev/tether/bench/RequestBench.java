package dev.tether.bench;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.Key;
import io.opentelemetry.context.ContextKey;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * The headline figure: one request's whole context life. Derive five contexts (a 10 s deadline, three values,
 * a cancellable call), check done 50 times, look values up 20 times, cancel both cancellable contexts.
 *
 * <p>Peers are composed to give the same features: gRPC alone (deadline, values, cancel), and gRPC for the
 * deadline and cancellation with the values in an OpenTelemetry Context (the usual pairing when a service uses
 * both). OpenTelemetry alone cannot do it: it has no deadline or cancellation.
 *
 * <p>Run: {@code tether-bench/run.sh --jmh RequestBench -prof gc}. Go: {@code request} in {@code go/main.go}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class RequestBench {

    private static final int DONE_CHECKS = 50;
    private static final int LOOKUPS = 20;

    private Duration timeout;
    private long timeoutNanos;
    private Context tetherRoot;
    private final Key<?>[] tetherKeys = {Key.of("user"), Key.of("tenant"), Key.of("traceId")};
    private io.grpc.Context grpcRoot;
    private final io.grpc.Context.Key<?>[] grpcKeys = {
        io.grpc.Context.key("user"), io.grpc.Context.key("tenant"), io.grpc.Context.key("traceId")
    };
    private io.opentelemetry.context.Context otelRoot;
    private final ContextKey<?>[] otelKeys = {
        ContextKey.named("user"), ContextKey.named("tenant"), ContextKey.named("traceId")
    };
    private Object user;
    private Object tenant;
    private Object traceId;

    @Setup
    public void setUp() {
        timeout = Duration.ofSeconds(10);
        timeoutNanos = timeout.toNanos();
        tetherRoot = Context.background();
        grpcRoot = io.grpc.Context.ROOT;
        otelRoot = io.opentelemetry.context.Context.root();
        user = "alice";
        tenant = "acme";
        traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    }

    @SuppressWarnings("unchecked")
    private static <T> Key<T> key(Key<?> key) {
        return (Key<T>) key;
    }

    /** The request: withTimeout, 3× withValue, withCancel, 50× isDone, 20× value, close both. */
    @Benchmark
    public void tether_request(Blackhole bh) {
        try (CancellableContext request = tetherRoot.withTimeout(timeout)) {
            Context values = request.withValue(key(tetherKeys[0]), user)
                    .withValue(key(tetherKeys[1]), tenant)
                    .withValue(key(tetherKeys[2]), traceId);
            try (CancellableContext call = values.withCancel()) {
                for (int i = 0; i < DONE_CHECKS; i++) {
                    bh.consume(call.isDone());
                }
                for (int i = 0; i < LOOKUPS; i++) {
                    bh.consume(call.value(tetherKeys[i % 3]));
                }
                bh.consume(call);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static <T> io.grpc.Context.Key<T> key(io.grpc.Context.Key<?> key) {
        return (io.grpc.Context.Key<T>) key;
    }

    /** The request: withDeadlineAfter, 3× withValue, withCancellation, 50× isCancelled, 20× get, close both. */
    @Benchmark
    public void grpc_request(Blackhole bh) {
        try (io.grpc.Context.CancellableContext request =
                grpcRoot.withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS, Peers.GRPC_TIMER)) {
            io.grpc.Context values = request.withValue(key(grpcKeys[0]), user)
                    .withValue(key(grpcKeys[1]), tenant)
                    .withValue(key(grpcKeys[2]), traceId);
            try (io.grpc.Context.CancellableContext call = values.withCancellation()) {
                for (int i = 0; i < DONE_CHECKS; i++) {
                    bh.consume(call.isCancelled());
                }
                for (int i = 0; i < LOOKUPS; i++) {
                    bh.consume(grpcKeys[i % 3].get(call));
                }
                bh.consume(call);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static <T> ContextKey<T> key(ContextKey<?> key) {
        return (ContextKey<T>) key;
    }

    /**
     * The request with gRPC for deadline and cancellation and OpenTelemetry for the values: withDeadlineAfter,
     * 3× with, withCancellation, 50× isCancelled, 20× get, close both.
     */
    @Benchmark
    public void grpcOtel_request(Blackhole bh) {
        try (io.grpc.Context.CancellableContext request =
                grpcRoot.withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS, Peers.GRPC_TIMER)) {
            io.opentelemetry.context.Context values = otelRoot.with(key(otelKeys[0]), user)
                    .with(key(otelKeys[1]), tenant)
                    .with(key(otelKeys[2]), traceId);
            try (io.grpc.Context.CancellableContext call = request.withCancellation()) {
                for (int i = 0; i < DONE_CHECKS; i++) {
                    bh.consume(call.isCancelled());
                }
                for (int i = 0; i < LOOKUPS; i++) {
                    bh.consume(values.get(otelKeys[i % 3]));
                }
                bh.consume(call);
                bh.consume(values);
            }
        }
    }
}
