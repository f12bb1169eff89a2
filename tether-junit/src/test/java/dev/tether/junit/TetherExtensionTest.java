package dev.tether.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.TaskGroup;
import dev.tether.leak.LeakDetector;
import java.io.InputStream;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;

/**
 * The extension, run on case classes through the JUnit Platform EngineTestKit: planted leaks fail their test with
 * the report, clean tests pass, parallel tests are told apart by lineage, and ignore filters work.
 */
@Timeout(120)
class TetherExtensionTest {

    @BeforeEach
    void reset() {
        Leaks.reset();
    }

    @AfterEach
    void releaseLeaks() throws Exception {
        Leaks.releaseAll();
        assertNull(LeakDetector.installed(), "the detector the extension installed is closed with the run");
    }

    private static EngineExecutionResults run(Class<?> cases, String... parameters) {
        EngineTestKit.Builder kit = EngineTestKit.engine("junit-jupiter")
                .selectors(selectClass(cases))
                .configurationParameter(OnlyInTestKit.PARAMETER, "true");
        for (int i = 0; i < parameters.length; i += 2) {
            kit = kit.configurationParameter(parameters[i], parameters[i + 1]);
        }
        return kit.execute();
    }

    private static List<String> failures(EngineExecutionResults results) {
        return results.testEvents().failed().stream()
                .map(e -> e.getPayload(TestExecutionResult.class).orElseThrow().getThrowable().orElseThrow())
                .map(Throwable::getMessage)
                .toList();
    }

    // ---- planted leaks ----

    @TetherLeakCheck(waitMillis = 500)
    @ExtendWith(OnlyInTestKit.class)
    static class BusyLeak {
        @Test
        void spinsPastItsContext(Context ctx) {
            Leaks.started(Thread.ofPlatform().name("busy-leak").start(ctx.wrap(Leaks::spin)));
        }
    }

    @Test
    void aTaskIgnoringCancellationFailsItsTestWithTheReport() {
        EngineExecutionResults results = run(BusyLeak.class);

        results.testEvents().assertStatistics(s -> s.started(1).succeeded(0).failed(1));
        String message = failures(results).get(0);
        String test = "dev.tether.junit.TetherExtensionTest$BusyLeak#spinsPastItsContext(Context)";
        assertTrue(message.startsWith("Tether: 1 task started in test " + test + " still runs 500 ms after the"
                + " test's context was cancelled"), message);
        assertTrue(message.contains("on platform thread \"busy-leak\": IGNORING_CANCELLATION"), message);
        assertTrue(message.contains("[1] 1 task made at dev.tether.junit.TetherExtensionTest$BusyLeak"
                + ".spinsPastItsContext(TetherExtensionTest.java:"), message);
        assertTrue(message.contains("WithCancel \"test " + test + "\""), "lineage names the test: " + message);
        assertTrue(message.contains("at dev.tether.junit.Leaks.spin("), "the stack shows where it spins: " + message);
    }

    @TetherLeakCheck(waitMillis = 100)
    @ExtendWith(OnlyInTestKit.class)
    static class SocketLeak {
        static InputStream in;

        @Test
        void readsASocketThatNeverAnswers(Context ctx) throws Exception {
            Thread reader = Leaks.started(Thread.ofPlatform().name("socket-leak").start(ctx.wrap(() -> Leaks.read(in))));
            Leaks.awaitNative(reader);
        }
    }

    @Test
    void aTaskBlockedInAPlatformSocketReadFailsItsTestAsBlockedUninterruptible() throws Exception {
        SocketLeak.in = Leaks.silentSocket();

        EngineExecutionResults results = run(SocketLeak.class);

        results.testEvents().assertStatistics(s -> s.started(1).failed(1));
        String message = failures(results).get(0);
        assertTrue(message.contains("on platform thread \"socket-leak\": BLOCKED_UNINTERRUPTIBLE"), message);
        assertTrue(message.contains("made at dev.tether.junit.TetherExtensionTest$SocketLeak"
                + ".lambda$readsASocketThatNeverAnswers$0(")
                || message.contains("made at dev.tether.junit.TetherExtensionTest$SocketLeak"
                + ".readsASocketThatNeverAnswers("), message);
    }

    // ---- clean tests ----

    @TetherLeakCheck
    @ExtendWith(OnlyInTestKit.class)
    static class WellBehaved {
        @Test
        void taskThatStopsWhenItsContextEnds(Context ctx) {
            Leaks.started(Thread.ofVirtual().start(ctx.wrap(Leaks::sleepUntilCancelled)));
        }

        @Test
        void taskThatStopsSoonAfterItsContextEnds(Context ctx) {
            CountDownLatch stop = new CountDownLatch(1);
            ctx.onDone(stop::countDown); // on a virtual thread of its own, a little after the cancel
            Leaks.started(Thread.ofPlatform().start(ctx.wrap(() -> {
                try {
                    stop.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            })));
        }

        @Test
        void taskGroupJoinedAndClosed(Context ctx) throws Exception {
            try (TaskGroup group = TaskGroup.open(ctx)) {
                TaskGroup.Fork<Integer> fork = group.fork(() -> 42);
                group.join();
                assertEquals(42, fork.get());
            }
        }

        @Test
        void theRootIsInjectedAndCurrent(CancellableContext root, Context ctx) {
            assertSame(root, ctx);
            assertFalse(root.isDone());
            assertNotSame(Context.background(), Context.current());
            root.cancel();
            assertTrue(Context.current().isDone(), "Context.current() is the root's view");
        }
    }

    @Test
    void cleanTestsPass() {
        EngineExecutionResults results = run(WellBehaved.class);

        results.testEvents().assertStatistics(s -> s.started(4).succeeded(4).failed(0));
    }

    // ---- parallel execution ----

    @TetherLeakCheck(waitMillis = 500)
    @ExtendWith(OnlyInTestKit.class)
    @Execution(ExecutionMode.CONCURRENT)
    static class Parallel {
        static CyclicBarrier together;

        private static void meet() throws Exception {
            together.await(10, TimeUnit.SECONDS); // all four run at once, or this times out
        }

        @Test
        void leaky(Context ctx) throws Exception {
            Leaks.started(Thread.ofPlatform().name("parallel-leak").start(ctx.wrap(Leaks::spin)));
            meet();
        }

        @Test
        void cleanA(Context ctx) throws Exception {
            Leaks.started(Thread.ofVirtual().name("clean-a").start(ctx.wrap(Leaks::sleepUntilCancelled)));
            meet();
        }

        @Test
        void cleanB(Context ctx) throws Exception {
            Leaks.started(Thread.ofVirtual().name("clean-b").start(ctx.wrap(Leaks::sleepUntilCancelled)));
            meet();
        }

        @Test
        void cleanC(Context ctx) throws Exception {
            Leaks.started(Thread.ofVirtual().name("clean-c").start(ctx.wrap(Leaks::sleepUntilCancelled)));
            meet();
        }
    }

    @Test
    void underParallelExecutionEachTestAnswersForItsOwnSubtree() {
        Parallel.together = new CyclicBarrier(4);

        EngineExecutionResults results = run(Parallel.class,
                "junit.jupiter.execution.parallel.enabled", "true",
                "junit.jupiter.execution.parallel.mode.default", "concurrent",
                "junit.jupiter.execution.parallel.config.strategy", "fixed",
                "junit.jupiter.execution.parallel.config.fixed.parallelism", "4");

        results.testEvents().assertStatistics(s -> s.started(4).succeeded(3).failed(1));
        Event failed = results.testEvents().failed().list().get(0);
        assertEquals("leaky(Context)", failed.getTestDescriptor().getDisplayName());
        String message = failures(results).get(0);
        assertTrue(message.contains("\"parallel-leak\""), message);
        assertFalse(message.contains("clean-"), "other tests' tasks are not this test's: " + message);
    }

    // ---- ignore filters ----

    /** Background work made by a library; its tasks are created in its own method. */
    static final class BackgroundService {
        static void start(Context ctx) {
            Leaks.started(Thread.ofPlatform().name("service-1").start(ctx.wrap(Leaks::spin)));
        }
    }

    @TetherLeakCheck(waitMillis = 500, ignoreThreads = "known-poller-\\d+",
            ignoreCreatedBy = "dev.tether.junit.TetherExtensionTest$BackgroundService")
    @ExtendWith(OnlyInTestKit.class)
    static class Ignored {
        @Test
        void pollerThreadIsIgnored(Context ctx) {
            Leaks.started(Thread.ofPlatform().name("known-poller-7").start(ctx.wrap(Leaks::spin)));
        }

        @Test
        void serviceTaskIsIgnored(Context ctx) {
            BackgroundService.start(ctx);
        }

        @Test
        @TetherLeakCheck(ignoreThreads = "only-here")
        void methodFiltersAddToTheClassOnes(Context ctx) {
            Leaks.started(Thread.ofPlatform().name("only-here").start(ctx.wrap(Leaks::spin)));
            Leaks.started(Thread.ofPlatform().name("known-poller-8").start(ctx.wrap(Leaks::spin)));
        }

        @Test
        void othersAreNot(Context ctx) {
            Leaks.started(Thread.ofPlatform().name("unknown-poller").start(ctx.wrap(Leaks::spin)));
        }
    }

    @Test
    void ignoreFiltersLeaveOutKnownBackgroundWork() {
        EngineExecutionResults results = run(Ignored.class);

        results.testEvents().assertStatistics(s -> s.started(4).succeeded(3).failed(1));
        assertEquals("othersAreNot(Context)", results.testEvents().failed().list().get(0)
                .getTestDescriptor().getDisplayName());
    }

    @Test
    void configurationParametersIgnoreForTheWholeRun() {
        EngineExecutionResults results = run(BusyLeak.class, "tether.leak.ignoreThreads", "other, busy-.*");

        results.testEvents().assertStatistics(s -> s.started(1).succeeded(1));
    }

    // ---- misuse ----

    @TetherLeakCheck
    @ExtendWith(OnlyInTestKit.class)
    static class ContextInBeforeAll {
        @BeforeAll
        static void setUp(Context ctx) {
            throw new AssertionError("never called: " + ctx);
        }

        @Test
        void test() {
            // the class fails before this
        }
    }

    @Test
    void aContextOutsideATestIsRefusedWithAClearMessage() {
        EngineExecutionResults results = run(ContextInBeforeAll.class);

        Throwable failure = results.containerEvents().failed().list().get(0)
                .getPayload(TestExecutionResult.class).orElseThrow().getThrowable().orElseThrow();
        assertTrue(failure.getMessage().contains("gives each test its own root context"), failure.getMessage());
        assertTrue(failure.getMessage().contains("@BeforeAll"), failure.getMessage());
    }
}
