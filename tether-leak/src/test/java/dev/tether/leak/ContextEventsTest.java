package dev.tether.leak;

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
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import jdk.jfr.EventType;
import jdk.jfr.SettingDescriptor;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The context events as a recording sees them: each arrives with its fields, a disabled event is not written, a
 * propagation under the threshold is not written, and per-context data is kept only while a recording wants it.
 * Time is a {@link ManualTimeSource}, so ages, budgets and lateness are exact.
 */
@Timeout(60)
class ContextEventsTest {

    private static final String CANCELLED = "dev.tether.ContextCancelled";
    private static final String DEADLINE = "dev.tether.DeadlineExceeded";
    private static final String PROPAGATION = "dev.tether.CancelPropagation";

    private final ManualTimeSource clock = ManualTimeSource.create(Instant.parse("2026-11-24T01:00:00Z"));
    private final Context root = Context.root(clock);
    private final ContextObservers.Installation installation = ContextEvents.install();
    private final List<CancellableContext> opened = new ArrayList<>();

    @AfterEach
    void uninstall() {
        opened.forEach(CancellableContext::close);
        installation.close();
        assertSame(Context.background(), Context.current());
    }

    @Test
    void cancelledCarriesCauseTypeDepthAgeAndTheCancellersStack() throws Exception {
        try (EventCollector events = EventCollector.start(CANCELLED)) {
            CancellableContext request = open(root.withCancel());
            CancellableContext call = open(request.withTimeout(Duration.ofSeconds(10)));
            CancellableContext attempt = open(call.withCancel());
            clock.advance(Duration.ofMillis(250));

            attempt.cancel(new IOException("client went away"));

            RecordedEvent e = events.next(CANCELLED);
            assertEquals(ContextEvents.id(attempt), e.getString("contextId"));
            assertEquals(ContextEvents.id(request) + " WithCancel > " + ContextEvents.id(call) + " WithDeadline > "
                    + ContextEvents.id(attempt) + " WithCancel", e.getString("lineage"));
            assertEquals("java.io.IOException", e.getString("causeType"));
            assertEquals("client went away", e.getString("cause"));
            assertEquals(3, e.getInt("depth"));
            assertEquals(Duration.ofMillis(250), e.getDuration("age"));
            assertFalse(e.getBoolean("byAncestor"));
            assertEquals(0, e.getInt("descendants"));
            assertTrue(e.getStackTrace().getFrames().stream().anyMatch(
                    f -> f.getMethod().getName().equals("cancelledCarriesCauseTypeDepthAgeAndTheCancellersStack")),
                    "the stack is the cancelling thread's");
        }
    }

    @Test
    void cancelledWithoutACauseNamesTheContextsOwnExceptionAndNoMessage() throws Exception {
        try (EventCollector events = EventCollector.start(CANCELLED)) {
            CancellableContext ctx = open(root.withCancel());

            ctx.close();

            RecordedEvent e = events.next(CANCELLED);
            assertEquals("dev.tether.ContextCancelledException", e.getString("causeType"));
            assertNull(e.getString("cause"));
            assertEquals(1, e.getInt("depth"));
            assertEquals(Duration.ZERO, e.getDuration("age"));
        }
    }

    @Test
    void cancellingAParentReportsOnceWithItsDescendantCount() throws Exception {
        try (EventCollector events = EventCollector.start(CANCELLED)) {
            CancellableContext parent = open(root.withCancel());
            for (int i = 0; i < 3; i++) {
                // The middle context has a child, so it is linked and counted; the leaf is not linked (it reads its
                // parent's state when asked), so its end is not part of the propagation.
                open(open(parent.withCancel()).withCancel());
            }

            parent.cancel(new IllegalStateException("shutdown"));

            RecordedEvent e = events.next(CANCELLED);
            assertEquals(ContextEvents.id(parent), e.getString("contextId"));
            assertEquals(3, e.getInt("descendants"));
            CancellableContext marker = open(root.withCancel());
            marker.cancel();
            assertEquals(ContextEvents.id(marker), events.next(CANCELLED).getString("contextId"),
                    "descendants are not reported one by one");
        }
    }

    @Test
    void aContextCreatedUnderAnEndedParentIsCancelledByAncestor() throws Exception {
        try (EventCollector events = EventCollector.start(CANCELLED)) {
            CancellableContext parent = open(root.withCancel());
            parent.cancel(new IOException("gone"));
            events.next(CANCELLED);

            CancellableContext late = open(parent.withCancel());

            RecordedEvent e = events.next(CANCELLED);
            assertEquals(ContextEvents.id(late), e.getString("contextId"));
            assertTrue(e.getBoolean("byAncestor"));
            assertEquals("java.io.IOException", e.getString("causeType"));
            assertEquals(2, e.getInt("depth"));
        }
    }

    @Test
    void deadlineExceededCarriesDeadlineBudgetLatenessAndDepth() throws Exception {
        try (EventCollector events = EventCollector.start(DEADLINE)) {
            CancellableContext request = open(root.withCancel());
            CancellableContext call = open(request.withTimeout(Duration.ofMillis(200)));
            CancellableContext inner = open(call.withCancel()); // shares call's deadline
            clock.advance(Duration.ofMillis(300));

            assertTrue(inner.isDone()); // nobody waited, so no timer: the first look ends it, 100 ms late

            RecordedEvent e = events.next(DEADLINE);
            assertEquals(ContextEvents.id(call), e.getString("contextId"), "reported on the context that owns it");
            assertEquals(Instant.parse("2026-11-24T01:00:00.200Z"), e.getInstant("deadline"));
            assertEquals(Duration.ofMillis(200), e.getDuration("budget"));
            assertEquals(Duration.ofMillis(100), e.getDuration("lateness"));
            assertEquals(2, e.getInt("depth"));
            assertNull(e.getStackTrace(), "the thread that noticed says nothing about the deadline");
        }
    }

    @Test
    void aTimerThatFiresOnTimeReportsNoLateness() throws Exception {
        try (EventCollector events = EventCollector.start(DEADLINE)) {
            CancellableContext call = open(root.withTimeout(Duration.ofMillis(50)));
            call.onDone(() -> { }); // a waiter arms the deadline's timer

            clock.advance(Duration.ofMillis(50)); // runs the timer on this thread

            RecordedEvent e = events.next(DEADLINE);
            assertEquals(Duration.ofMillis(50), e.getDuration("budget"));
            assertEquals(Duration.ZERO, e.getDuration("lateness"));
        }
    }

    @Test
    void contextsCreatedBeforeTheRecordingReportDepthAndAgeAsUnknown() throws Exception {
        CancellableContext before = open(root.withCancel());
        try (EventCollector events = EventCollector.start(CANCELLED)) {
            CancellableContext after = open(before.withCancel());
            CancellableContext deeper = open(after.withCancel());

            deeper.cancel();
            before.cancel();

            RecordedEvent e = events.next(CANCELLED);
            assertEquals(ContextEvents.id(deeper), e.getString("contextId"));
            assertEquals(ContextEvents.UNKNOWN_DEPTH, e.getInt("depth"), "tracked, but under an untracked parent");
            assertEquals(Duration.ZERO, e.getDuration("age"));
            e = events.next(CANCELLED);
            assertEquals(ContextEvents.id(before), e.getString("contextId"));
            assertEquals(ContextEvents.UNKNOWN_DEPTH, e.getInt("depth"));
            assertEquals(ContextEvents.UNKNOWN_SPAN, e.getLong("age"));
            assertTrue(after.isDone());
            // A context tracked under an untracked parent knows its lineage stops there.
            assertEquals("? > " + ContextEvents.id(after) + " WithCancel",
                    ContextEvents.lineage(after, observer().nodeOf(after)));
        }
    }

    @Test
    void propagationArrivesWithDescendantsWhenOverTheThreshold() throws Exception {
        EventCollector events = EventCollector.configure(PROPAGATION);
        events.stream.enable(PROPAGATION).with("propagationThreshold", "0 ns");
        try (events) {
            events.begin();
            CancellableContext parent = open(root.withCancel());
            for (int i = 0; i < 5; i++) {
                open(parent.withTimeout(Duration.ofHours(1))); // owns its deadline, so it is linked
            }

            parent.cancel();

            RecordedEvent e = events.next(PROPAGATION);
            assertEquals(ContextEvents.id(parent), e.getString("contextId"));
            assertEquals(5, e.getInt("descendants"));
            assertTrue(e.getLong("propagation") >= 0, e::toString);
            assertEquals("cancelled", e.getString("endedBy"));
        }
    }

    @Test
    void propagationUnderTheThresholdIsNotRecorded() throws Exception {
        EventCollector events = EventCollector.configure(PROPAGATION, CANCELLED);
        events.stream.enable(PROPAGATION).with("propagationThreshold", "1 h");
        try (events) {
            events.begin();
            CancellableContext parent = open(root.withCancel());
            for (int i = 0; i < 5; i++) {
                open(parent.withTimeout(Duration.ofHours(1)));
            }
            parent.cancel();
            CancellableContext marker = open(root.withCancel());

            marker.cancel();

            // Events of one thread arrive in order: once the marker is here, a propagation event would be too.
            while (!events.next(CANCELLED).getString("contextId").equals(ContextEvents.id(marker))) {
                // the parent's own cancel event
            }
            assertTrue(events.all().stream().noneMatch(e -> e.getEventType().getName().equals(PROPAGATION)),
                    () -> events.all().toString());
        }
    }

    @Test
    void aDisabledEventIsNotRecorded() throws Exception {
        EventCollector events = EventCollector.configure(DEADLINE);
        events.stream.disable(CANCELLED);
        try (events) {
            events.begin();
            CancellableContext cancelled = open(root.withCancel());
            cancelled.cancel(new IOException("not wanted"));
            CancellableContext timed = open(root.withTimeout(Duration.ofMillis(10)));

            clock.advance(Duration.ofMillis(10));
            assertTrue(timed.isDone());

            assertEquals(ContextEvents.id(timed), events.next(DEADLINE).getString("contextId"));
            assertTrue(events.all().stream().noneMatch(e -> e.getEventType().getName().equals(CANCELLED)),
                    () -> events.all().toString());
        }
    }

    @Test
    void defaultsAreCancelledOffAndAOneMillisecondPropagationThreshold() {
        assertEquals("false", setting(ContextCancelledEvent.class, "enabled").getDefaultValue());
        assertEquals("true", setting(DeadlineExceededEvent.class, "enabled").getDefaultValue());
        assertEquals("1 ms", setting(CancelPropagationEvent.class, "propagationThreshold").getDefaultValue());
        for (Class<? extends jdk.jfr.Event> type : List.of(ContextCancelledEvent.class, DeadlineExceededEvent.class,
                CancelPropagationEvent.class)) {
            assertEquals(List.of("Tether", "Context"), EventType.getEventType(type).getCategoryNames());
        }
    }

    @Test
    void thresholdSettingParsesJfrDurationsAndCombinesToTheSmallest() {
        assertEquals(0, CancelPropagationEvent.ThresholdControl.parse("0"));
        assertEquals(1_000_000, CancelPropagationEvent.ThresholdControl.parse("1 ms"));
        assertEquals(20_000, CancelPropagationEvent.ThresholdControl.parse("20us"));
        assertEquals(Long.MAX_VALUE, CancelPropagationEvent.ThresholdControl.parse("999999999999 d"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CancelPropagationEvent.ThresholdControl.parse("soon"));
        assertTrue(e.getMessage().contains("propagationThreshold") && e.getMessage().contains("soon"), e.getMessage());
        CancelPropagationEvent.ThresholdControl control = new CancelPropagationEvent.ThresholdControl();
        assertEquals("5 ms", control.combine(Set.of("1 s", "5 ms", "nonsense")));
        assertEquals("1 ms", control.combine(Set.of()));
    }

    @Test
    void perContextDataIsKeptOnlyWhileARecordingWantsIt() throws Exception {
        open(root.withCancel());
        assertEquals(0, observer().trackedCount(), "no recording, nothing kept");

        try (EventCollector events = EventCollector.start(DEADLINE)) {
            open(root.withCancel());
            open(root.withCancel());
            assertEquals(2, observer().trackedCount());
        }
        open(root.withCancel()); // the next creation sees that no recording wants the data any more

        assertEquals(0, observer().trackedCount());
    }

    @Test
    void trackedDataGoesWithItsContext() throws Exception {
        try (EventCollector events = EventCollector.start(DEADLINE)) {
            for (int i = 0; i < 1000; i++) {
                root.withCancel().close(); // unreachable at once
            }
            // GC timing is the JVM's: ask a bounded number of times, each put expunges what was collected.
            for (int i = 0; i < 50 && observer().trackedCount() > 0; i++) {
                System.gc();
                Thread.sleep(20);
                open(root.withCancel()).close();
                opened.clear();
            }
            assertTrue(observer().trackedCount() <= 1, () -> observer().trackedCount() + " entries left");
        }
    }

    /**
     * Threads create and cancel chains of known depth while recordings come and go, so tracking turns on and off
     * (and the map is cleared) under them. Every event written must carry its chain's true depth, or N/A for a
     * chain begun while tracking was off; no observer call may fail its caller.
     */
    @Test
    void stressChainsWhileRecordingsComeAndGo() throws Exception {
        long budgetMillis = Long.getLong("tether.stress.millis", 1500);
        AtomicBoolean stop = new AtomicBoolean();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        AtomicLong chains = new AtomicLong();
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            Thread.Builder builder = w % 2 == 0 ? Thread.ofPlatform() : Thread.ofVirtual();
            int seed = w;
            workers.add(builder.name("chains-" + w).start(() -> {
                Context base = Context.background(); // the system clock: ages are real here
                int n = 0;
                while (!stop.get()) {
                    int depth = 1 + (n++ + seed) % 6;
                    CancellableContext[] chain = new CancellableContext[depth];
                    try {
                        Context parent = base;
                        for (int d = 0; d < depth; d++) {
                            chain[d] = d % 3 == 2 ? parent.withTimeout(Duration.ofHours(1)) : parent.withCancel();
                            parent = chain[d];
                        }
                        chain[depth - 1].cancel(new IllegalStateException("depth=" + depth));
                        chain[0].cancel();
                        chains.incrementAndGet();
                    } catch (Throwable t) {
                        failures.add(t);
                        return;
                    }
                }
            }));
        }
        List<RecordedEvent> recorded = new CopyOnWriteArrayList<>();
        long end = System.nanoTime() + budgetMillis * 1_000_000;
        int recordings = 0;
        while (System.nanoTime() - end < 0) {
            try (RecordingStream stream = new RecordingStream()) {
                stream.enable(CANCELLED);
                stream.onEvent(CANCELLED, recorded::add);
                stream.startAsync();
                Thread.onSpinWait();
                stream.stop(); // waits until what was recorded is delivered
            }
            recordings++;
        }
        stop.set(true);
        for (Thread t : workers) {
            t.join(Duration.ofSeconds(20));
            assertFalse(t.isAlive(), t.getName() + " did not stop");
        }

        assertTrue(failures.isEmpty(), () -> "observer calls failed: " + failures);
        assertTrue(chains.get() > 0 && recordings > 1, chains + " chains, " + recordings + " recordings");
        int checked = 0;
        for (RecordedEvent e : recorded) {
            String cause = e.getString("cause");
            if (cause == null || !cause.startsWith("depth=")) {
                continue; // the chain roots' own cancels: nothing to compare with
            }
            int depth = e.getInt("depth");
            if (depth != ContextEvents.UNKNOWN_DEPTH) {
                assertEquals(cause, "depth=" + depth, e::toString);
                assertEquals(depth, e.getString("lineage").split(" > ").length, e::toString);
                checked++;
            }
        }
        System.out.printf("ContextEvents stress: %d chains, %d recordings, %d events, %d depths checked%n",
                chains.get(), recordings, recorded.size(), checked);
    }

    private CancellableContext open(CancellableContext ctx) {
        opened.add(ctx);
        return ctx;
    }

    private ContextEvents.Observer observer() {
        return (ContextEvents.Observer) installation.observer();
    }

    private static SettingDescriptor setting(Class<? extends jdk.jfr.Event> type, String name) {
        return EventType.getEventType(type).getSettingDescriptors().stream()
                .filter(s -> s.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no setting " + name + " on " + type));
    }
}
