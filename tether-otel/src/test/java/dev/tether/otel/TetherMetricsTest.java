package dev.tether.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ManualTimeSource;
import dev.tether.spi.ContextObservers;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.InboundBudget;
import dev.tether.wire.InboundCall;
import dev.tether.wire.RequestEndedException;
import dev.tether.wire.WireHeaders;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class TetherMetricsTest {

    private final InMemoryMetricReader reader = InMemoryMetricReader.create();
    private final SdkMeterProvider meterProvider = SdkMeterProvider.builder().registerMetricReader(reader).build();
    private final ManualTimeSource time = ManualTimeSource.create();
    private final List<ContextObservers.Installation> installed = new ArrayList<>();

    @AfterEach
    void tearDown() {
        installed.forEach(ContextObservers.Installation::close);
        meterProvider.close();
        assertSame(Context.background(), Context.current());
    }

    private TetherMetrics installed(TetherMetrics metrics) {
        installed.add(metrics.install());
        return metrics;
    }

    @Test
    void aPassedDeadlineIsCountedWithTheOriginThatSetIt() throws Exception {
        TetherMetrics metrics = installed(TetherMetrics.builder(meterProvider).build());
        CancellableContext owner = Context.root(time).withTimeout(Duration.ofMillis(250));
        Context request = DeadlineOrigin.parse("gateway/POST:/checkout").bindTo(owner);

        request.run(() -> time.advance(Duration.ofMillis(250))); // the handler runs while the budget runs out
        owner.close();

        assertEquals(Map.of(Attributes.of(TetherSpans.CANCEL_TYPE, "deadline_exceeded",
                TetherSpans.DEADLINE_ORIGIN, "gateway"), 1L), counts());
        assertEquals(0, metrics.trackedOrigins());
    }

    @Test
    void aDeadlineNobodyNamedIsCountedAsUnknown() {
        installed(TetherMetrics.builder(meterProvider).build());
        CancellableContext ctx = Context.root(time).withTimeout(Duration.ofMillis(5));

        time.advance(Duration.ofMillis(5));
        assertTrue(ctx.isDone());
        ctx.close();

        assertEquals(Map.of(Attributes.of(TetherSpans.CANCEL_TYPE, "deadline_exceeded",
                TetherSpans.DEADLINE_ORIGIN, "_unknown"), 1L), counts());
    }

    @Test
    void aCancelWithACauseCountsAndAPlainCloseDoesNot() {
        installed(TetherMetrics.builder(meterProvider).build());

        for (int i = 0; i < 3; i++) {
            try (CancellableContext closedAfterWork = Context.background().withCancel()) {
                closedAfterWork.isDone();
            }
        }
        CancellableContext stopped = Context.background().withCancel();
        stopped.cancel(new IllegalStateException("client went away"));
        stopped.cancel(new IllegalStateException("again")); // already done: not a second end

        assertEquals(Map.of(Attributes.of(TetherSpans.CANCEL_TYPE, "cancelled"), 1L), counts());
    }

    @Test
    void aRequestAnsweredIsNotCountedAndAClientThatWentAwayIs() {
        installed(TetherMetrics.builder(meterProvider).build());

        Context.background().withCancel().cancel(RequestEndedException.responseCompleted());
        Context.background().withCancel().cancel(RequestEndedException.clientDisconnected("reset"));

        assertEquals(Map.of(Attributes.of(TetherSpans.CANCEL_TYPE, "cancelled"), 1L), counts());
    }

    @Test
    void aServerCallIsRecordedWithItsBudgetAndCountedUnderItsOriginWhenItRunsOut() {
        TetherMetrics metrics = installed(TetherMetrics.builder(meterProvider).build());
        InboundBudget policy = InboundBudget.builder().maxBudget(Duration.ofSeconds(10)).timeSource(time).build();
        Map<String, String> headers = Map.of(WireHeaders.BUDGET, "250m", WireHeaders.ORIGIN, "gateway/checkout");
        InboundCall call = InboundCall.start(Context.root(time), policy.read(headers::get),
                DeadlineOrigin.parse("orders/GET:/stock"));
        InboundCall answered = InboundCall.start(Context.root(time), policy.read(headers::get),
                DeadlineOrigin.parse("orders/GET:/stock"));

        metrics.recordInbound(call); // the handler makes no child and hands nothing off: only this names the origin
        metrics.recordInbound(answered);
        answered.complete();
        time.advance(Duration.ofMillis(250));
        assertTrue(call.context().isDone());

        assertEquals(Map.of(Attributes.of(TetherSpans.CANCEL_TYPE, "deadline_exceeded",
                TetherSpans.DEADLINE_ORIGIN, "gateway"), 1L), counts());
        HistogramPointData budget = onlyHistogramPoint(TetherMetrics.REMAINING);
        assertEquals(2, budget.getCount());
        assertEquals(0.5, budget.getSum(), 1e-9);
        assertEquals(Attributes.of(TetherMetrics.BUDGET_DIRECTION, "inbound", TetherSpans.DEADLINE_ORIGIN,
                "gateway"), budget.getAttributes());
        assertEquals(0, metrics.trackedOrigins());
    }

    @Test
    void aChildMadeUnderTheOriginTeachesTheObserverItsOwnersOrigin() throws Exception {
        installed(TetherMetrics.builder(meterProvider).build());
        CancellableContext owner = Context.root(time).withTimeout(Duration.ofMillis(100));
        Context request = DeadlineOrigin.parse("gateway").bindTo(owner);

        try (CancellableContext step = request.withCancel()) {
            time.advance(Duration.ofMillis(100));
            assertTrue(step.isDone());
        }
        owner.close();

        assertEquals(Map.of(Attributes.of(TetherSpans.CANCEL_TYPE, "deadline_exceeded",
                TetherSpans.DEADLINE_ORIGIN, "gateway"), 1L), counts());
    }

    @Test
    void descendantsEndedByAnAncestorAreCountedOnceAtTheAncestorWithThePropagation() {
        installed(TetherMetrics.builder(meterProvider).build());
        CancellableContext parent = Context.background().withCancel();
        List<CancellableContext> children = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            CancellableContext child = parent.withTimeout(Duration.ofHours(1)); // owns a deadline: linked
            children.add(child);
            children.add(child.withCancel().withCancel()); // its child links it, and the grandchild is a leaf
        }

        parent.cancel(new IllegalStateException("shutdown"));
        children.forEach(CancellableContext::close);

        assertEquals(Map.of(Attributes.of(TetherSpans.CANCEL_TYPE, "cancelled"), 1L), counts());
        HistogramPointData descendants = onlyHistogramPoint(TetherMetrics.DESCENDANTS);
        assertEquals(1, descendants.getCount());
        assertTrue(descendants.getSum() >= 6, "3 children and their 3 linked children: " + descendants.getSum());
        assertEquals(Attributes.of(TetherSpans.CANCEL_TYPE, "cancelled"), descendants.getAttributes());
        HistogramPointData propagation = onlyHistogramPoint(TetherMetrics.PROPAGATION);
        assertEquals(1, propagation.getCount());
        assertTrue(propagation.getSum() > 0 && propagation.getSum() < 10, "seconds: " + propagation.getSum());
    }

    @Test
    void anEndThatReachesNothingRecordsNoPropagation() {
        installed(TetherMetrics.builder(meterProvider).build());
        CancellableContext leaf = Context.background().withCancel();

        leaf.cancel(new IllegalStateException("stop"));

        assertNull(metric(TetherMetrics.PROPAGATION));
        assertNull(metric(TetherMetrics.DESCENDANTS));
    }

    @Test
    void budgetsAreRecordedInSecondsByDirectionAndOrigin() {
        TetherMetrics metrics = TetherMetrics.builder(meterProvider).build();
        CancellableContext owner = Context.root(time).withTimeout(Duration.ofMillis(250));
        Context inbound = DeadlineOrigin.parse("gateway/checkout").bindTo(owner);

        assertTrue(metrics.recordBudget(inbound, TetherMetrics.Direction.INBOUND));
        time.advance(Duration.ofMillis(100));
        assertTrue(metrics.recordBudget(inbound, TetherMetrics.Direction.OUTBOUND));
        assertFalse(metrics.recordBudget(Context.background(), TetherMetrics.Direction.OUTBOUND), "no deadline");
        metrics.recordBudget(Duration.ofMillis(-5), null, TetherMetrics.Direction.INBOUND);
        owner.close();

        Map<Attributes, HistogramPointData> points = histogramPoints(TetherMetrics.REMAINING);
        HistogramPointData in = points.get(Attributes.of(TetherMetrics.BUDGET_DIRECTION, "inbound",
                TetherSpans.DEADLINE_ORIGIN, "gateway"));
        HistogramPointData out = points.get(Attributes.of(TetherMetrics.BUDGET_DIRECTION, "outbound",
                TetherSpans.DEADLINE_ORIGIN, "gateway"));
        HistogramPointData unnamed = points.get(Attributes.of(TetherMetrics.BUDGET_DIRECTION, "inbound",
                TetherSpans.DEADLINE_ORIGIN, "_unknown"));
        assertEquals(3, points.size(), points.keySet().toString());
        assertEquals(0.25, in.getSum(), 1e-9);
        assertEquals(0.15, out.getSum(), 1e-9);
        assertEquals(0.0, unnamed.getSum(), 1e-9, "a negative budget is zero");
        assertEquals(1, unnamed.getCount());
    }

    @Test
    void originsPastTheCapBecomeOtherSoCardinalityStaysBounded() {
        TetherMetrics metrics = TetherMetrics.builder(meterProvider).maxOrigins(2).build();

        for (String service : List.of("a", "b", "c", "d", "a", "e")) {
            metrics.recordBudget(Duration.ofMillis(10), DeadlineOrigin.parse(service + "/op"),
                    TetherMetrics.Direction.INBOUND);
        }

        Map<String, Long> byOrigin = histogramPoints(TetherMetrics.REMAINING).entrySet().stream().collect(
                Collectors.toMap(e -> e.getKey().get(TetherSpans.DEADLINE_ORIGIN), e -> e.getValue().getCount()));
        assertEquals(Map.of("a", 2L, "b", 1L, "_other", 3L), byOrigin);
    }

    @Test
    void originDetailChoosesServiceServiceAndOperationOrNothing() {
        InMemoryMetricReader fullReader = InMemoryMetricReader.create();
        try (SdkMeterProvider full = SdkMeterProvider.builder().registerMetricReader(fullReader).build()) {
            DeadlineOrigin origin = DeadlineOrigin.parse("gateway/POST:/checkout");
            TetherMetrics.builder(meterProvider).originDetail(TetherMetrics.OriginDetail.NONE).build()
                    .recordBudget(Duration.ofMillis(1), origin, TetherMetrics.Direction.INBOUND);
            TetherMetrics.builder(full).originDetail(TetherMetrics.OriginDetail.SERVICE_AND_OPERATION).build()
                    .recordBudget(Duration.ofMillis(1), origin, TetherMetrics.Direction.OUTBOUND);

            assertEquals(Set.of(Attributes.of(TetherMetrics.BUDGET_DIRECTION, "inbound")),
                    histogramPoints(reader, TetherMetrics.REMAINING).keySet());
            assertEquals(Set.of(Attributes.of(TetherMetrics.BUDGET_DIRECTION, "outbound",
                    TetherSpans.DEADLINE_ORIGIN, "gateway/POST:/checkout")),
                    histogramPoints(fullReader, TetherMetrics.REMAINING).keySet());
        }
    }

    @Test
    void ownersEndedByAnAncestorAreSweptOnceTheTableIsFull() {
        TetherMetrics metrics = installed(TetherMetrics.builder(meterProvider).build());
        DeadlineOrigin origin = DeadlineOrigin.parse("gateway");
        CancellableContext server = Context.background().withCancel();

        for (int i = 0; i < TetherMetrics.MAX_TRACKED; i++) {
            CancellableContext owner = server.withTimeout(Duration.ofHours(1));
            origin.bindTo(owner).wrap(() -> { }); // a hand-off notes the owner's origin
        }
        assertEquals(TetherMetrics.MAX_TRACKED, metrics.trackedOrigins());
        server.cancel(); // ends every owner as a descendant: none is reported one by one
        CancellableContext next = server.withTimeout(Duration.ofHours(1)); // done at once, under a done parent
        CancellableContext live = Context.background().withTimeout(Duration.ofHours(1));
        origin.bindTo(live).wrap(() -> { });

        assertEquals(1, metrics.trackedOrigins(), "the sweep dropped the ended owners and kept the live one");
        next.close();
        live.close();
        assertEquals(0, metrics.trackedOrigins());
    }

    @Test
    void underConcurrentHandOffsAndEndsEveryEndIsCountedOnceAndNoOriginIsRetained() throws Exception {
        TetherMetrics metrics = installed(TetherMetrics.builder(meterProvider).build());
        DeadlineOrigin origin = DeadlineOrigin.parse("gateway");
        long budget = Long.getLong("tether.stress.millis", 1500) / 2;
        long end = System.nanoTime() + budget * 1_000_000;
        java.util.concurrent.atomic.AtomicLong ended = new java.util.concurrent.atomic.AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            boolean virtual = t % 2 == 0;
            Runnable loop = () -> {
                while (System.nanoTime() - end < 0) {
                    CancellableContext owner = Context.background().withTimeout(Duration.ofHours(1));
                    Context request = origin.bindTo(owner);
                    Thread handOff = Thread.ofVirtual().start(() -> request.wrap(() -> { }).run());
                    owner.cancel(new IllegalStateException("raced")); // races the hand-off's remember()
                    ended.incrementAndGet();
                    try {
                        handOff.join();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            };
            threads.add(virtual ? Thread.ofVirtual().start(loop) : Thread.ofPlatform().start(loop));
        }
        for (Thread thread : threads) {
            thread.join();
        }

        assertEquals(Map.of(Attributes.of(TetherSpans.CANCEL_TYPE, "cancelled"), ended.get()), counts());
        assertEquals(0, metrics.trackedOrigins(), "an origin noted after its owner ended was dropped");
        assertTrue(ended.get() > 0);
    }

    @Test
    void installingTheSameMetricsTwiceIsRefusedAndOtherObserversStillHear() {
        TetherMetrics metrics = installed(TetherMetrics.builder(meterProvider).build());
        installed.add(OtelContextBridge.install());

        assertThrows(IllegalStateException.class, metrics::install);
        CancellableContext ctx = Context.background().withCancel();
        ctx.cancel(new IllegalStateException("x"));
        assertEquals(1L, counts().values().stream().mapToLong(Long::longValue).sum());
    }

    @Test
    void badArgumentsAreRejectedByName() {
        TetherMetrics.Builder builder = TetherMetrics.builder(meterProvider);
        TetherMetrics metrics = builder.build();

        assertEquals("maxOrigins: 0 (expected: 1 to 1000)",
                assertThrows(IllegalArgumentException.class, () -> builder.maxOrigins(0)).getMessage());
        assertEquals("meterProvider must not be null",
                assertThrows(NullPointerException.class, () -> TetherMetrics.builder(null)).getMessage());
        assertEquals("direction must not be null", assertThrows(NullPointerException.class,
                () -> metrics.recordBudget(Context.background(), null)).getMessage());
        assertEquals("remaining must not be null", assertThrows(NullPointerException.class,
                () -> metrics.recordBudget(null, null, TetherMetrics.Direction.INBOUND)).getMessage());
    }

    // ---- reading the reader ----

    private MetricData metric(String name) {
        MetricData found = null;
        for (MetricData m : reader.collectAllMetrics()) {
            if (m.getName().equals(name)) {
                found = m;
            }
        }
        return found;
    }

    private Map<Attributes, Long> counts() {
        MetricData m = metric(TetherMetrics.CANCELLED);
        Map<Attributes, Long> out = new HashMap<>();
        if (m != null) {
            for (LongPointData p : m.getLongSumData().getPoints()) {
                if (p.getValue() != 0) {
                    out.put(p.getAttributes(), p.getValue());
                }
            }
        }
        return out;
    }

    private Map<Attributes, HistogramPointData> histogramPoints(String name) {
        return histogramPoints(reader, name);
    }

    private static Map<Attributes, HistogramPointData> histogramPoints(InMemoryMetricReader reader, String name) {
        Map<Attributes, HistogramPointData> out = new HashMap<>();
        for (MetricData m : reader.collectAllMetrics()) {
            if (m.getName().equals(name)) {
                for (HistogramPointData p : m.getHistogramData().getPoints()) {
                    out.put(p.getAttributes(), p);
                }
            }
        }
        return out;
    }

    private HistogramPointData onlyHistogramPoint(String name) {
        Map<Attributes, HistogramPointData> points = histogramPoints(name);
        assertEquals(1, points.size(), points.toString());
        return points.values().iterator().next();
    }
}
