package dev.tether.leak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ManualTimeSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Sampling, deep chains, and what each level captures. */
@Timeout(60)
class LevelsTest {

    private final ManualTimeSource clock = ManualTimeSource.create();
    private final Collector collector = new Collector();

    private LeakDetector.Options options(LeakDetector.Level level) {
        return LeakDetector.Options.defaults()
                .withLevel(level)
                .withListener(collector)
                .withTimeSource(clock);
    }

    @Test
    void sampledCapturesTheCreationStackOfOneTaskInN() throws Exception {
        List<Thread> threads = new ArrayList<>();
        try (LeakDetector detector = LeakDetector.install(options(LeakDetector.Level.SAMPLED).withSampleInterval(4));
                Planted planted = new Planted();
                CancellableContext ctx = Context.background().withCancel()) {
            for (int i = 0; i < 16; i++) {
                threads.add(Thread.ofVirtual().start(ctx.wrap(planted.parkedSwallowingInterrupts())));
            }
            for (Thread t : threads) {
                Planted.awaitState(t, () -> t.getState() == Thread.State.TIMED_WAITING, "parked");
            }
            List<CancellableContext> more = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                more.add(ctx.withCancel());
            }

            LeakReport running = detector.running();
            ContextMap map = ContextMap.capture(detector);

            assertEquals(16, running.tasks().size());
            assertEquals(4, running.tasks().stream().filter(t -> t.creationSite() != null).count());
            assertTrue(running.tasks().stream().filter(t -> t.creationSite() != null)
                    .allMatch(t -> t.creationSite().contains("sampledCapturesTheCreationStackOfOneTaskInN")));
            assertEquals(9, map.contexts().size());
            assertEquals(2, map.contexts().stream().filter(c -> c.site() != null).count(), "9 contexts, 1 in 4");
            assertTrue(running.toText().contains("(not sampled)"), running.toText());
            Runnable neverRun = ctx.wrap(() -> { });
            assertEquals(0, detector.notStartedUnder(ctx), "tasks not started are counted at FULL only: " + neverRun);
            more.forEach(CancellableContext::cancel);
            planted.release();
            for (Thread t : threads) {
                t.join();
            }
        }
    }

    @Test
    void unsampledContextsAreNamedByWhatTheyShow() throws Exception {
        try (LeakDetector detector = LeakDetector.install(options(LeakDetector.Level.SAMPLED));
                CancellableContext plain = Context.background().withCancel();
                CancellableContext timed = plain.withTimeout(Duration.ofHours(1));
                CancellableContext inheriting = timed.withCancel()) {

            List<ContextInfo> contexts = ContextMap.capture(detector).contexts();

            assertEquals(List.of("WithCancel", "WithDeadline", "WithCancel"),
                    contexts.stream().map(ContextInfo::kind).toList());
            assertTrue(contexts.stream().allMatch(c -> c.site() == null));
            assertEquals(inheriting.deadline().orElseThrow(), contexts.get(2).deadline());
            assertEquals(contexts.get(1).id(), contexts.get(2).parentId());
        }
    }

    @Test
    void chainsDeeperThanTheThresholdAreReportedOncePerChain() throws Exception {
        try (LeakDetector detector = LeakDetector.install(options(LeakDetector.Level.SAMPLED).withMaxChainDepth(5))) {
            CancellableContext first = buildChain(8);
            CancellableContext second = buildChain(8);

            DeepChain a = Collector.take(collector.deepChains, "deep chain report");
            DeepChain b = Collector.take(collector.deepChains, "second deep chain report");

            // The reports come in order from one thread: had depths 7 and 8 of the first chain been reported,
            // they would have come before the second chain's.
            assertEquals(6, a.depth());
            assertEquals(6, b.depth());
            assertNotEquals(a.contextId(), b.contextId());
            assertTrue(a.site().contains("LevelsTest.buildChain("), a.site());
            assertTrue(a.toText().contains("6 cancellable contexts deep"), a.toText());
            first.cancel();
            second.cancel();
            assertNull(collector.deepChains.poll());
            assertEquals(LeakDetector.Level.SAMPLED, detector.level());
        }
    }

    /** A chain of {@code depth} cancellable contexts; returns its root, which the caller cancels. */
    private static CancellableContext buildChain(int depth) {
        CancellableContext root = Context.background().withCancel();
        CancellableContext c = root;
        for (int i = 1; i < depth; i++) {
            c = c.withCancel();
        }
        return root;
    }
}
