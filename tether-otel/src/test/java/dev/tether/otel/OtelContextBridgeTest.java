package dev.tether.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ContextExecutors;
import dev.tether.TaskGroup;
import dev.tether.spi.ContextObservers;
import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(30)
class OtelContextBridgeTest {

    private final Tracing tracing = Tracing.plain();
    private ContextObservers.Installation bridge;
    private final List<ExecutorService> pools = new ArrayList<>();

    @BeforeEach
    void installBridge() {
        bridge = OtelContextBridge.install();
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        bridge.close();
        for (ExecutorService pool : pools) {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        }
        tracing.close();
        assertSame(Context.background(), Context.current());
        assertSame(io.opentelemetry.context.Context.root(), io.opentelemetry.context.Context.current());
    }

    private ExecutorService pool(int threads) {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        pools.add(pool);
        return pool;
    }

    @Test
    void spanMadeCurrentOnTheRequestThreadIsCurrentInsideATaskGroupFork() throws Exception {
        Span request = tracing.start("request");

        Span seen;
        try (Scope s = request.makeCurrent(); TaskGroup group = TaskGroup.open(Context.current())) {
            TaskGroup.Fork<Span> fork = group.fork(Span::current);
            group.join();
            seen = fork.get();
        } finally {
            request.end();
        }

        assertSame(request, seen);
    }

    @Test
    void spanFollowsIntoTaskGroupOpenedOnAnExplicitContextBeforeTheSpanStarted() throws Exception {
        try (CancellableContext ctx = Context.background().withCancel();
                TaskGroup group = TaskGroup.open(ctx)) {
            Span request = tracing.start("request");
            TaskGroup.Fork<Span> fork;
            try (Scope s = request.makeCurrent()) {
                fork = group.fork(Span::current);
            }
            group.join();

            assertSame(request, fork.get());
            request.end();
        }
    }

    @Test
    void spanIsCurrentInsideATaskOnAPropagatingPoolAndGoneAfterIt() throws Exception {
        ExecutorService pool = ContextExecutors.propagating(pool(1));
        Span request = tracing.start("request");

        Future<Span> inside;
        try (Scope s = request.makeCurrent()) {
            inside = pool.submit(Span::current);
        }
        Span after = pool.submit(Span::current).get(10, TimeUnit.SECONDS);
        // A task not submitted through Tether sees what the pool thread itself has: nothing.
        Span bare = pools.get(0).submit(Span::current).get(10, TimeUnit.SECONDS);

        assertSame(request, inside.get(10, TimeUnit.SECONDS));
        assertFalse(after.getSpanContext().isValid());
        assertFalse(bare.getSpanContext().isValid());
        assertSame(io.opentelemetry.context.Context.root(),
                pools.get(0).submit(io.opentelemetry.context.Context::current).get(10, TimeUnit.SECONDS));
        request.end();
    }

    @Test
    void eachTaskOnASharedThreadSeesItsOwnSpanAndNothingLeaksBetweenThem() throws Exception {
        ExecutorService pool = ContextExecutors.propagating(pool(1));
        List<Span> spans = new ArrayList<>();
        List<Future<Span>> seen = new ArrayList<>();

        for (int i = 0; i < 20; i++) {
            Span span = tracing.start("task-" + i);
            spans.add(span);
            if (i % 3 == 2) {
                seen.add(pool.submit(Span::current)); // submitted with no span current
                continue;
            }
            try (Scope s = span.makeCurrent()) {
                seen.add(pool.submit(Span::current));
            }
        }

        for (int i = 0; i < 20; i++) {
            Span got = seen.get(i).get(10, TimeUnit.SECONDS);
            if (i % 3 == 2) {
                assertFalse(got.getSpanContext().isValid(), "task " + i + " saw " + got);
            } else {
                assertSame(spans.get(i), got, "task " + i);
            }
            spans.get(i).end();
        }
    }

    @Test
    void wrapCarriesTheSpanToAnotherThreadAndRunAndCallKeepItOnThisOne() throws Exception {
        Span request = tracing.start("request");
        Span[] onThread = new Span[1];
        Runnable wrapped;
        try (CancellableContext ctx = Context.background().withCancel(); Scope s = request.makeCurrent()) {
            wrapped = ctx.wrap(() -> {
                onThread[0] = Span.current();
            });
            Callable<Span> inCall = () -> ctx.call(Span::current);
            Span[] inRun = new Span[1];
            ctx.run(() -> inRun[0] = Span.current());

            assertSame(request, inCall.call());
            assertSame(request, inRun[0]);
            Thread t = Thread.ofPlatform().start(wrapped);
            t.join();
        }

        assertSame(request, onThread[0]);
        request.end();
    }

    @Test
    void baggageTravelsWithTheSpan() throws Exception {
        ExecutorService pool = ContextExecutors.propagating(pool(1));
        Baggage baggage = Baggage.builder().put("tenant", "acme").build();

        Future<String> tenant;
        try (Scope s = baggage.makeCurrent()) {
            tenant = pool.submit(() -> Baggage.current().getEntryValue("tenant"));
        }

        assertEquals("acme", tenant.get(10, TimeUnit.SECONDS));
    }

    @Test
    void periodicTasksRunEveryTimeWithTheSpanOfTheirScheduling() throws Exception {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        pools.add(scheduler);
        ScheduledExecutorService propagating = ContextExecutors.propagating(scheduler);
        Span request = tracing.start("request");
        CountDownLatch runs = new CountDownLatch(3);
        AtomicInteger wrong = new AtomicInteger();

        try (Scope s = request.makeCurrent()) {
            propagating.scheduleAtFixedRate(() -> {
                if (Span.current() != request) {
                    wrong.incrementAndGet();
                }
                runs.countDown();
            }, 0, 1, TimeUnit.MILLISECONDS);
        }

        assertTrue(runs.await(10, TimeUnit.SECONDS));
        assertEquals(0, wrong.get());
        request.end();
    }

    @Test
    void virtualThreadsStartedThroughTetherCarryTheSpan() throws Exception {
        Span request = tracing.start("request");
        Span[] seen = new Span[1];

        Thread t;
        try (Scope s = request.makeCurrent()) {
            t = ContextExecutors.startVirtualThread(() -> seen[0] = Span.current());
        }
        t.join();

        assertSame(request, seen[0]);
        request.end();
    }

    @Test
    void withoutTheBridgeTheSpanStaysBehind() throws Exception {
        bridge.close();
        ExecutorService pool = ContextExecutors.propagating(pool(1));
        Span request = tracing.start("request");

        Future<Span> inside;
        try (Scope s = request.makeCurrent()) {
            inside = pool.submit(Span::current);
        }

        assertFalse(inside.get(10, TimeUnit.SECONDS).getSpanContext().isValid());
        request.end();
        bridge = OtelContextBridge.install(); // for tearDown
    }

    @Test
    void aTaskHandedOffBeforeTheBridgeWasInstalledLeavesTheWorkerAlone() throws Exception {
        bridge.close();
        Span request = tracing.start("request");
        Runnable wrapped;
        Span[] seen = new Span[1];
        try (Scope s = request.makeCurrent()) {
            wrapped = Context.background().wrap(() -> {
                seen[0] = Span.current();
            });
        }
        bridge = OtelContextBridge.install();

        Span other = tracing.start("worker's own");
        try (Scope s = other.makeCurrent()) {
            wrapped.run();
        }

        assertSame(other, seen[0]);
        request.end();
        other.end();
    }

    @Test
    void installingTwiceIsRefused() {
        IllegalStateException e = assertThrows(IllegalStateException.class, OtelContextBridge::install);

        assertTrue(e.getMessage().contains("OtelContextBridge"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"platform", "virtual"})
    void underContentionEveryTaskSeesExactlyTheSpanOfItsSubmitter(String kind) throws Exception {
        long budget = Long.getLong("tether.stress.millis", 1500) / 2;
        ThreadFactory factory = kind.equals("virtual") ? Thread.ofVirtual().factory() : Thread.ofPlatform().factory();
        ExecutorService workers = Executors.newFixedThreadPool(2, factory);
        pools.add(workers);
        ExecutorService pool = ContextExecutors.propagating(workers);
        int submitters = 4;
        AtomicInteger wrong = new AtomicInteger();
        AtomicInteger checked = new AtomicInteger();
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(budget);

        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < submitters; t++) {
            threads.add(factory.newThread(() -> {
                List<Future<?>> pending = new ArrayList<>();
                while (System.nanoTime() - end < 0) {
                    Span span = tracing.start("s");
                    boolean current = (checked.get() & 1) == 0;
                    try (Scope s = current ? span.makeCurrent() : Scope.noop()) {
                        pending.add(pool.submit(() -> {
                            Span seen = Span.current();
                            boolean ok = current ? seen == span : !seen.getSpanContext().isValid();
                            if (!ok) {
                                wrong.incrementAndGet();
                            }
                            checked.incrementAndGet();
                        }));
                    }
                    span.end();
                    if (pending.size() >= 64) {
                        for (Future<?> f : pending) {
                            try {
                                f.get(10, TimeUnit.SECONDS);
                            } catch (Exception e) {
                                wrong.incrementAndGet();
                            }
                        }
                        pending.clear();
                    }
                }
                for (Future<?> f : pending) {
                    try {
                        f.get(10, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        wrong.incrementAndGet();
                    }
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        tracing.exporter.reset();

        assertEquals(0, wrong.get(), "tasks that saw another task's span, of " + checked.get());
        assertTrue(checked.get() > 0);
        for (int i = 0; i < 2; i++) {
            assertSame(io.opentelemetry.context.Context.root(),
                    workers.submit(io.opentelemetry.context.Context::current).get(10, TimeUnit.SECONDS));
        }
    }
}
