package dev.tether.bench;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.Key;
import io.opentelemetry.context.ContextKey;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * Heap retained per live context, measured as a heap delta: what stays reachable after a full GC once
 * {@code count} contexts are made and held, divided by {@code count}. Not a JMH benchmark, since JMH measures
 * time and allocation, not what stays live. Run it in its own JVM with {@code -XX:+UseSerialGC}, whose
 * {@code System.gc()} is a full, compacting, stop-the-world collection, so that the used heap after it is
 * exactly the live set.
 *
 * <p>The holder array is allocated before the baseline, so only the contexts (and whatever they make reachable:
 * a parent's child set, a scheduled timer task) are counted. Each figure is the median of five rounds, after one
 * round that loads classes.
 *
 * <p>Run: {@code tether-bench/run.sh} runs it; alone:
 * {@code java -XX:+UseSerialGC -cp "$(cat tether-bench/target/bench.classpath):tether-bench/target/classes"
 * dev.tether.bench.RetainedMemory 100000 out.json}. Go: {@code retained*} in {@code go/main.go}.
 */
public final class RetainedMemory {

    private static final Key<Object> TETHER_KEY = Key.of("extra");
    private static final io.grpc.Context.Key<Object> GRPC_KEY = io.grpc.Context.key("extra");
    private static final ContextKey<Object> OTEL_KEY = ContextKey.named("extra");
    private static final Object VALUE = new Object();

    private record Row(String key, String peer, double bytes) {}

    public static void main(String[] args) throws IOException {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        List<Row> rows = new ArrayList<>();

        // A live cancellable child of a live cancellable parent: the child, plus its entry in the parent.
        CancellableContext tetherParent = Context.background().withCancel();
        io.grpc.Context.CancellableContext grpcParent = io.grpc.Context.ROOT.withCancellation();
        rows.add(new Row("RetainedMemory.withCancel", "tether", perContext(count, i -> tetherParent.withCancel())));
        rows.add(new Row("RetainedMemory.withCancel", "grpc",
                perContext(count, i -> grpcParent.withCancellation())));

        // A live child with a one-hour deadline: the child, plus any timer task scheduled for it.
        Duration hour = Duration.ofHours(1);
        rows.add(new Row("RetainedMemory.withTimeout", "tether",
                perContext(count, i -> Context.background().withTimeout(hour))));
        rows.add(new Row("RetainedMemory.withTimeout", "grpc", perContext(count,
                i -> io.grpc.Context.ROOT.withDeadlineAfter(1, TimeUnit.HOURS, Peers.GRPC_TIMER))));

        // One value added to a context that already holds three.
        Context tetherBase = Context.background();
        io.grpc.Context grpcBase = io.grpc.Context.ROOT;
        io.opentelemetry.context.Context otelBase = io.opentelemetry.context.Context.root();
        for (int i = 0; i < 3; i++) {
            tetherBase = tetherBase.withValue(Key.of("k" + i), VALUE);
            grpcBase = grpcBase.withValue(io.grpc.Context.key("k" + i), VALUE);
            otelBase = otelBase.with(ContextKey.named("k" + i), VALUE);
        }
        Context tether3 = tetherBase;
        io.grpc.Context grpc3 = grpcBase;
        io.opentelemetry.context.Context otel3 = otelBase;
        rows.add(new Row("RetainedMemory.withValue", "tether",
                perContext(count, i -> tether3.withValue(TETHER_KEY, VALUE))));
        rows.add(new Row("RetainedMemory.withValue", "grpc",
                perContext(count, i -> grpc3.withValue(GRPC_KEY, VALUE))));
        rows.add(new Row("RetainedMemory.withValue", "otel", perContext(count, i -> otel3.with(OTEL_KEY, VALUE))));

        // What a live parent still holds after children, each with a listener, were cancelled one by one. A tenth
        // of the count: the figure is per child, and gRPC's parent, which keeps every child, slows down with the
        // square of the count (ManyChildrenBench).
        int children = Math.max(1, count / 10);
        rows.add(new Row("RetainedMemory.afterCancelledChildren", "tether", perChildLeftBehind(children, () -> {
            CancellableContext parent = Context.background().withCancel();
            return new Object[] {parent, (Runnable) () -> {
                for (int i = 0; i < children; i++) {
                    CancellableContext child = parent.withCancel();
                    child.onDone(() -> { }, Peers.DIRECT);
                    child.cancel();
                }
            }};
        })));
        rows.add(new Row("RetainedMemory.afterCancelledChildren", "grpc", perChildLeftBehind(children, () -> {
            io.grpc.Context.CancellableContext parent = io.grpc.Context.ROOT.withCancellation();
            return new Object[] {parent, (Runnable) () -> {
                for (int i = 0; i < children; i++) {
                    io.grpc.Context.CancellableContext child = parent.withCancellation();
                    child.addListener(context -> { }, Peers.DIRECT);
                    child.cancel(null);
                }
            }};
        })));
        tetherParent.cancel();
        grpcParent.cancel(null);

        StringBuilder json = new StringBuilder("[\n");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            json.append(String.format(Locale.ROOT,
                    "  {\"key\": \"%s\", \"peer\": \"%s\", \"params\": {}, \"score\": %.1f, \"unit\": \"B\"}%s%n",
                    r.key, r.peer, r.bytes, i + 1 < rows.size() ? "," : ""));
            System.out.printf(Locale.ROOT, "%-40s %-8s %8.1f B%n", r.key, r.peer, r.bytes);
        }
        json.append("]\n");
        if (args.length > 1) {
            Files.writeString(Path.of(args[1]), json);
        }
    }

    /** Bytes retained per object made by {@code make}, with all {@code count} of them held. */
    private static double perContext(int count, IntFunction<Object> make) {
        double[] rounds = new double[5];
        for (int round = -1; round < rounds.length; round++) {
            Object[] held = new Object[count];
            long before = usedAfterGc();
            for (int i = 0; i < count; i++) {
                held[i] = make.apply(i);
            }
            long after = usedAfterGc();
            if (round >= 0) {
                rounds[round] = (after - before) / (double) count;
            }
            release(held);
        }
        return median(rounds);
    }

    /**
     * Bytes per child that a parent still retains after its children are gone. {@code setUp} returns the parent
     * and the work; the baseline is taken with the parent made, the figure after the work.
     */
    private static double perChildLeftBehind(int count, java.util.function.Supplier<Object[]> setUp) {
        double[] rounds = new double[5];
        for (int round = -1; round < rounds.length; round++) {
            Object[] parentAndWork = setUp.get();
            long before = usedAfterGc();
            ((Runnable) parentAndWork[1]).run();
            long after = usedAfterGc();
            if (round >= 0) {
                rounds[round] = (after - before) / (double) count;
            }
            release(parentAndWork);
        }
        return median(rounds);
    }

    /** Cancels whatever in {@code held} can be cancelled, so that nothing stays linked between rounds. */
    private static void release(Object[] held) {
        for (Object o : held) {
            if (o instanceof CancellableContext c) {
                c.cancel();
            } else if (o instanceof io.grpc.Context.CancellableContext c) {
                c.cancel(null);
            }
        }
        Arrays.fill(held, null);
    }

    private static long usedAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private RetainedMemory() {}
}
