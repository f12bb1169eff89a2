package dev.tether.bench;

import dev.tether.Context;
import dev.tether.Key;
import dev.tether.Scope;
import io.opentelemetry.context.ContextKey;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Binding a context to the current thread, reading the current context once, and restoring the previous
 * binding: what every instrumented call or executor hop does. Each peer binds a context that is not already
 * current (OpenTelemetry skips the work when it is). Plain {@link ThreadLocal} set/get/restore and
 * {@code ScopedValue.where(…).run(…)} are the JDK baselines; ScopedValue can only bind for the extent of a
 * {@code Runnable}, so its figure includes that call. Go has no current context.
 *
 * <p>ScopedValue is reached through {@link ScopedValues} (method handles), see there for why.
 *
 * <p>Run: {@code tether-bench/run.sh --jmh AttachBench -prof gc}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(org.openjdk.jmh.annotations.Scope.Thread)
public class AttachBench {

    private static final ThreadLocal<Object> THREAD_LOCAL = new ThreadLocal<>();
    private static final Object SCOPED_VALUE = ScopedValues.newInstance();

    private Context tether;
    private io.grpc.Context grpc;
    private io.opentelemetry.context.Context otel;
    private Object value;

    @Setup
    public void setUp() {
        value = new Object();
        tether = Context.background().withValue(Key.of("k"), value);
        grpc = io.grpc.Context.ROOT.withValue(io.grpc.Context.key("k"), value);
        otel = io.opentelemetry.context.Context.root().with(ContextKey.named("k"), value);
    }

    @TearDown
    public void tearDown() {
        if (Context.current() != Context.background() || io.grpc.Context.current() != io.grpc.Context.ROOT
                || io.opentelemetry.context.Context.current() != io.opentelemetry.context.Context.root()
                || THREAD_LOCAL.get() != null) {
            throw new AssertionError("a binding leaked out of its scope");
        }
    }

    /** The ScopedValue benchmark's reader, which must run inside the binding and see the value. */
    @State(org.openjdk.jmh.annotations.Scope.Thread)
    public static class Scoped {
        Runnable read;
        // written inside the ScopedValue's binding, returned by the benchmark and checked at tear-down
        Object seen;

        @Setup
        public void setUp() {
            read = () -> {
                try {
                    seen = (Object) ScopedValues.GET.invokeExact(SCOPED_VALUE);
                } catch (Throwable t) {
                    throw new IllegalStateException(t);
                }
            };
        }

        @TearDown
        public void tearDown() {
            if (seen == null) {
                throw new AssertionError("the scoped value was never read");
            }
        }
    }

    /** attach(), Context.current(), Scope.close(). */
    @Benchmark
    public Context tether_attach() {
        Scope scope = tether.attach();
        try {
            return Context.current();
        } finally {
            scope.close();
        }
    }

    /** attach(), Context.current(), detach(previous). */
    @Benchmark
    public io.grpc.Context grpc_attach() {
        io.grpc.Context previous = grpc.attach();
        try {
            return io.grpc.Context.current();
        } finally {
            grpc.detach(previous);
        }
    }

    /** makeCurrent(), Context.current(), Scope.close(). */
    @Benchmark
    public io.opentelemetry.context.Context otel_attach() {
        io.opentelemetry.context.Scope scope = otel.makeCurrent();
        try {
            return io.opentelemetry.context.Context.current();
        } finally {
            scope.close();
        }
    }

    /** get() the previous value, set(value), get(), set(previous). */
    @Benchmark
    public Object threadLocal_attach() {
        Object previous = THREAD_LOCAL.get();
        THREAD_LOCAL.set(value);
        try {
            return THREAD_LOCAL.get();
        } finally {
            THREAD_LOCAL.set(previous);
        }
    }

    /** ScopedValue.where(key, value).run(r), where r reads get(). */
    @Benchmark
    public Object scopedValue_attach(Scoped scoped) throws Throwable {
        Object carrier = (Object) ScopedValues.WHERE.invokeExact(SCOPED_VALUE, value);
        ScopedValues.RUN.invokeExact(carrier, scoped.read);
        return scoped.seen;
    }
}
