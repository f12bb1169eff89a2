package dev.tether.leak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.Blocking;
import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ContextCancelledException;
import dev.tether.Key;
import dev.tether.ManualTimeSource;
import dev.tether.Registration;
import dev.tether.TaskGroup;
import dev.tether.TimeSource;
import dev.tether.spi.ContextObservers;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The detector end to end: planted leaks reported once, after the grace period, with lineage, creator, canceller
 * and classification; well-behaved tasks never. The detector's clock is a ManualTimeSource, so the grace period
 * passes when the test says so and the check runs on the test's thread.
 */
@Timeout(60)
class LeakDetectorTest {

    private static final Duration GRACE = Duration.ofSeconds(1);

    private final ManualTimeSource clock = ManualTimeSource.create();
    private final Collector collector = new Collector();
    private final Planted planted = new Planted();
    private final List<Thread> threads = new ArrayList<>();
    private LeakDetector detector = LeakDetector.install(options());

    private LeakDetector.Options options() {
        return LeakDetector.Options.defaults()
                .withLevel(LeakDetector.Level.FULL)
                .withGracePeriod(GRACE)
                .withListener(collector)
                .withTimeSource(clock);
    }

    private void reinstall(LeakDetector.Options options) {
        detector.close();
        detector = LeakDetector.install(options);
    }

    @AfterEach
    void cleanUp() throws Exception {
        planted.close();
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(Collector.WAIT_SECONDS));
            assertFalse(t.isAlive(), t + " still runs after the test released it");
        }
        detector.close();
        assertSame(Context.background(), Context.current());
    }

    private Thread platform(String name, Runnable task) {
        Thread t = Thread.ofPlatform().name(name).daemon().start(task);
        threads.add(t);
        return t;
    }

    private Thread virtual(String name, Runnable task) {
        Thread t = Thread.ofVirtual().name(name).start(task);
        threads.add(t);
        return t;
    }

    private static String me() {
        return Frames.threadLabel(Thread.currentThread());
    }

    @Test
    void taskIgnoringCancellation_isReportedAfterTheGracePeriodWithLineageCreatorAndCanceller() throws Exception {
        CancellableContext request = Context.background().withCancel();
        CancellableContext call = request.withValue(Key.<String>of("user"), "ada").withTimeout(Duration.ofMinutes(5));
        Thread leaky = platform("busy-leak", call.wrap(planted.busyLoop()));
        assertTrue(planted.started.await(Collector.WAIT_SECONDS, TimeUnit.SECONDS));

        request.cancel(new IOException("client went away"));
        clock.advance(GRACE.minusMillis(1));
        assertTrue(collector.leaks.isEmpty(), "nothing is reported within the grace period");
        clock.advance(Duration.ofMillis(1));

        LeakReport report = collector.nextLeak();
        assertEquals(1, report.groups().size());
        TaskInfo task = report.tasks().get(0);
        String method = "taskIgnoringCancellation_isReportedAfterTheGracePeriodWithLineageCreatorAndCanceller";
        assertTrue(task.creationSite().startsWith("dev.tether.leak.LeakDetectorTest." + method + "(LeakDetectorTest.java:"),
                task.creationSite());
        assertEquals("busy-leak", task.thread());
        assertFalse(task.virtual());
        assertEquals(Thread.State.RUNNABLE, task.threadState());
        assertEquals(Classification.IGNORING_CANCELLATION, task.classification());
        assertTrue(task.leaked());
        assertEquals(1000L, task.outlivedMillis());
        assertTrue(task.stack().stream().anyMatch(f -> f.contains("Planted.lambda$busyLoop")), task.stack()::toString);
        assertTrue(task.stack().stream().noneMatch(f -> f.contains("dev.tether.AbstractContext")), "Tether's frames trimmed");

        assertEquals(2, task.lineage().size(), task.lineage()::toString);
        ContextInfo root = task.lineage().get(0);
        ContextInfo owner = task.lineage().get(1);
        assertEquals("WithCancel", root.kind());
        assertEquals("WithTimeout", owner.kind());
        assertEquals(root.id(), owner.parentId());
        assertEquals(owner.id(), task.contextId());
        assertTrue(root.site().contains(method), root.site());
        assertTrue(owner.site().contains(method), owner.site());
        assertNotNull(owner.deadline());
        ContextEnd rootEnd = root.endedBy();
        assertEquals(ContextEnd.Type.CANCELLED, rootEnd.type());
        assertEquals("java.io.IOException: client went away", rootEnd.cause());
        assertFalse(rootEnd.byAncestor());
        assertEquals(me(), rootEnd.thread());
        assertTrue(rootEnd.site().contains(method), "the canceller's site: " + rootEnd.site());
        ContextEnd ownerEnd = owner.endedBy();
        assertTrue(ownerEnd.byAncestor());
        assertEquals("java.io.IOException: client went away", ownerEnd.cause());
        assertEquals(me(), ownerEnd.thread());
        assertEquals(rootEnd.at(), ownerEnd.at());
        assertTrue(ownerEnd.site().contains(method), ownerEnd.site());

        String text = report.toText();
        assertTrue(text.contains("1 task still running after their context ended, from 1 creation site"), text);
        assertTrue(text.contains("task " + task.id() + " on platform thread \"busy-leak\": IGNORING_CANCELLATION"), text);
        assertTrue(text.contains("cause: java.io.IOException: client went away"), text);
        StrictJson.parse(report.toJson());

        clock.advance(GRACE.multipliedBy(10));
        assertTrue(collector.leaks.isEmpty(), "a leak is reported once");
        assertEquals(1, detector.leaks().tasks().size(), "leaks() answers every time it is asked");
        assertTrue(leaky.isAlive());
    }

    @Test
    void platformThreadInASocketRead_isBlockedUninterruptible() throws Exception {
        Runnable read = planted.socketRead();
        CancellableContext ctx = Context.background().withTimeout(Duration.ofMinutes(5));
        Thread reader = platform("socket-leak", ctx.wrap(read));
        Planted.awaitState(reader, () -> Planted.inSocketRead(reader), "into the socket read");

        ctx.cancel();
        reader.interrupt(); // what a TaskGroup or a cancelling executor would do; a platform socket read ignores it
        clock.advance(GRACE);

        TaskInfo task = collector.nextLeak().tasks().get(0);
        assertEquals(Classification.BLOCKED_UNINTERRUPTIBLE, task.classification(), task.stack()::toString);
        assertTrue(task.interrupted());
        assertTrue(task.creationSite().contains("platformThreadInASocketRead_isBlockedUninterruptible"));
        assertTrue(task.stack().get(0).endsWith("(Native Method)"), task.stack().get(0));
        ContextInfo owner = task.owner();
        assertEquals("WithTimeout", owner.kind());
        assertEquals(ContextEnd.Type.CANCELLED, owner.endedBy().type());
        assertNull(owner.endedBy().cause(), "a cancel without cause reports none");
        assertFalse(owner.endedBy().byAncestor());
    }

    @Test
    void taskWaitingForAMonitor_isBlockedMonitor() throws Exception {
        CancellableContext ctx = Context.background().withCancel();
        Thread[] blocked = new Thread[1];
        planted.holdMonitor(() -> {
            blocked[0] = platform("monitor-leak", ctx.wrap(planted.enterMonitor()));
            try {
                Planted.awaitState(blocked[0], () -> blocked[0].getState() == Thread.State.BLOCKED, "BLOCKED");
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            ctx.cancel();
            clock.advance(GRACE);
        });

        TaskInfo task = collector.nextLeak().tasks().get(0);
        assertEquals(Classification.BLOCKED_MONITOR, task.classification());
        assertEquals(Thread.State.BLOCKED, task.threadState());
        assertTrue(task.creationSite().contains("taskWaitingForAMonitor_isBlockedMonitor"));
    }

    @Test
    void virtualThreadSwallowingItsInterrupt_isParked() throws Exception {
        CancellableContext ctx = Context.background().withCancel();
        Thread parked = virtual("parked-leak", ctx.wrap(planted.parkedSwallowingInterrupts()));
        Planted.awaitState(parked, () -> parked.getState() == Thread.State.TIMED_WAITING, "parked");

        ctx.cancel();
        parked.interrupt();
        Planted.awaitState(parked, () -> planted.swallowed.get() == 1
                && parked.getState() == Thread.State.TIMED_WAITING, "parked again after swallowing the interrupt");
        clock.advance(GRACE);

        TaskInfo task = collector.nextLeak().tasks().get(0);
        assertEquals(Classification.PARKED, task.classification());
        assertFalse(task.interrupted(), "the interrupt was swallowed");
        assertTrue(task.virtual());
        assertEquals("parked-leak", task.thread());
        assertTrue(task.stack().stream().anyMatch(f -> f.contains("CountDownLatch.await")), task.stack()::toString);
    }

    @Test
    void leaksAreDeduplicatedByCreationSite() throws Exception {
        CancellableContext ctx = Context.background().withCancel();
        List<Thread> same = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            same.add(platform("same-site-" + i, ctx.wrap(planted.parkedSwallowingInterrupts())));
        }
        Thread other = platform("other-site", ctx.wrap(planted.parkedSwallowingInterrupts()));
        for (Thread t : threads) {
            Planted.awaitState(t, () -> t.getState() == Thread.State.TIMED_WAITING, "parked");
        }

        ctx.cancel();
        clock.advance(GRACE);

        LeakReport report = collector.nextLeak();
        assertEquals(4, report.tasks().size());
        assertEquals(2, report.groups().size());
        LeakReport.Group first = report.groups().get(0);
        assertEquals(3, first.count());
        assertEquals(first.creationSite(), first.key());
        assertTrue(first.tasks().stream().allMatch(t -> t.thread().startsWith("same-site-")));
        assertEquals(1, report.groups().get(1).count());
        assertEquals("other-site", report.groups().get(1).tasks().get(0).thread());
        assertTrue(report.toText().contains("and 2 more tasks like it:"), report.toText());
        assertTrue(same.size() == 3 && other.isAlive());

        LeakReport withoutOther = report.filter(t -> !t.thread().equals("other-site"));
        assertEquals(1, withoutOther.groups().size());
        assertEquals(3, withoutOther.tasks().size());
        assertSame(report, report.filter(t -> true));
    }

    @Test
    void tasksHandedOutButNotStartedAreCountedUntilTheyFirstStart() {
        CancellableContext ctx = Context.background().withCancel();
        CancellableContext child = ctx.withCancel();
        CancellableContext elsewhere = Context.background().withCancel();

        Runnable wrapped = child.wrap(() -> { });

        assertEquals(1, detector.notStartedUnder(ctx));
        assertEquals(1, detector.notStartedUnder(child));
        assertEquals(0, detector.notStartedUnder(elsewhere));
        assertEquals(1, detector.notStarted());
        wrapped.run();
        wrapped.run();
        assertEquals(0, detector.notStartedUnder(ctx), "counted down once, though run twice");
        assertEquals(0, detector.notStarted());
        elsewhere.cancel();
        ctx.cancel();
    }

    @Test
    void forksThatAClosedGroupWillNeverStartAreNotCounted() throws Exception {
        List<Runnable> queued = new ArrayList<>();
        try (CancellableContext ctx = Context.background().withCancel()) {
            try (TaskGroup group = TaskGroup.openOnExecutor(ctx, TaskGroup.Policy.FAIL_FAST, queued::add)) {
                group.fork(() -> 1);
                assertEquals(1, detector.notStartedUnder(ctx));
            }

            assertEquals(0, detector.notStartedUnder(ctx), "a closed group starts none of its queued forks");
            queued.forEach(Runnable::run);
            assertTrue(detector.running().isEmpty());
        }
    }

    @Test
    void wellBehavedTask_producesNoReport() throws Exception {
        CancellableContext ctx = Context.background().withCancel();
        Thread good = platform("well-behaved", ctx.wrap(() -> {
            planted.started.countDown();
            try {
                Blocking.sleep(Context.current(), Duration.ofHours(1));
            } catch (ContextCancelledException e) {
                // the context ended: stop, as a task should
            }
        }));
        assertTrue(planted.started.await(Collector.WAIT_SECONDS, TimeUnit.SECONDS));

        ctx.cancel();
        good.join(TimeUnit.SECONDS.toMillis(Collector.WAIT_SECONDS));
        assertFalse(good.isAlive());
        clock.advance(GRACE.multipliedBy(2));

        assertTrue(collector.leaks.isEmpty());
        assertTrue(detector.leaks().isEmpty());
        assertTrue(detector.running().isEmpty());
        assertEquals("Tether leak report, 2000-01-01T00:00:02Z: no task outlived its context\n",
                detector.leaks().toText());
    }

    @Test
    void taskStartedAfterItsContextEnded_isReportedAGracePeriodAfterItStarted() throws Exception {
        CancellableContext ctx = Context.background().withCancel();
        Runnable wrapped = ctx.wrap(planted.busyLoop());
        ctx.cancel();
        clock.advance(Duration.ofMinutes(1));

        platform("late-start", wrapped);
        assertTrue(planted.started.await(Collector.WAIT_SECONDS, TimeUnit.SECONDS));
        clock.advance(GRACE.minusMillis(1));
        assertTrue(collector.leaks.isEmpty());
        clock.advance(Duration.ofMillis(1));

        TaskInfo task = collector.nextLeak().tasks().get(0);
        assertEquals("late-start", task.thread());
        assertEquals(61_000L, task.outlivedMillis(), "counted from the context's end");
        assertEquals(1_000L, task.runningMillis());
    }

    /**
     * The same for a context its parent's cancel ended: the tracker hears of that end only when the late task
     * starts, and still counts from the end itself, not from when it heard of it.
     */
    @Test
    void taskStartedAfterAnAncestorEndedItsContext_isCountedFromThatEnd() throws Exception {
        CancellableContext request = Context.background().withCancel();
        CancellableContext call = request.withTimeout(Duration.ofMinutes(5));
        Runnable wrapped = call.wrap(planted.busyLoop());
        request.cancel();
        clock.advance(Duration.ofMinutes(1));

        platform("late-start", wrapped);
        assertTrue(planted.started.await(Collector.WAIT_SECONDS, TimeUnit.SECONDS));
        clock.advance(GRACE.minusMillis(1));
        assertTrue(collector.leaks.isEmpty(), "a late starter still gets its grace period");
        clock.advance(Duration.ofMillis(1));

        TaskInfo task = collector.nextLeak().tasks().get(0);
        assertEquals("late-start", task.thread());
        assertEquals(61_000L, task.outlivedMillis(), "counted from the end its parent's cancel caused");
        assertEquals(1_000L, task.runningMillis());
        assertTrue(task.owner().endedBy().byAncestor());
    }

    /**
     * A task whose start the tracker is still recording when its context's parent is cancelled: registering the
     * onDone listener (which arms the context's deadline timer, held here in the time source) finishes only
     * after the cancel has propagated and the clock has moved, so the tracker first sees the end late. The task
     * started before the cancel; it is due a grace period after the cancel, not after the late sighting.
     */
    @Test
    void taskWhoseStartStraddlesItsParentsCancel_isDueAGracePeriodAfterTheCancel() throws Exception {
        CountDownLatch arming = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        TimeSource holding = new TimeSource() {
            @Override
            public long nanoTime() {
                return clock.nanoTime();
            }

            @Override
            public Instant now() {
                return clock.now();
            }

            @Override
            public Registration schedule(Runnable task, long delayNanos) {
                if (Thread.currentThread().getName().equals("straddling")) {
                    arming.countDown();
                    try {
                        assertTrue(release.await(Collector.WAIT_SECONDS, TimeUnit.SECONDS), "released");
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return clock.schedule(task, delayNanos);
            }
        };
        CancellableContext request = Context.root(holding).withCancel();
        CancellableContext call = request.withTimeout(Duration.ofMinutes(5));
        platform("straddling", call.wrap(planted.busyLoop()));
        try {
            assertTrue(arming.await(Collector.WAIT_SECONDS, TimeUnit.SECONDS), "the task's start hook arms the timer");
            request.cancel(new IOException("client went away"));
            clock.advance(GRACE.multipliedBy(2));
        } finally {
            release.countDown();
        }
        assertTrue(planted.started.await(Collector.WAIT_SECONDS, TimeUnit.SECONDS));

        List<TaskInfo> leaked = detector.leaks().tasks();
        assertEquals(1, leaked.size(), detector.running()::toText);
        assertEquals("straddling", leaked.get(0).thread());
        assertEquals(2_000L, leaked.get(0).outlivedMillis(), "counted from the cancel");
        clock.advance(Duration.ZERO); // the check the late sighting scheduled is due at once
        assertEquals(leaked.get(0).id(), collector.nextLeak().tasks().get(0).id());
    }

    @Test
    void taskEndingWithinTheGracePeriod_isNotReported() throws Exception {
        CancellableContext ctx = Context.background().withCancel();
        Thread t = platform("slow-to-stop", ctx.wrap(planted.busyLoop()));
        assertTrue(planted.started.await(Collector.WAIT_SECONDS, TimeUnit.SECONDS));
        ctx.cancel();
        clock.advance(GRACE.dividedBy(2));
        assertEquals(1, detector.runningUnder(ctx).tasks().size());
        assertFalse(detector.runningUnder(ctx).tasks().get(0).leaked(), "still within the grace period");

        planted.release();
        t.join(TimeUnit.SECONDS.toMillis(Collector.WAIT_SECONDS));
        clock.advance(GRACE);

        assertTrue(collector.leaks.isEmpty());
    }

    @Test
    void runningUnder_attributesByLineage() throws Exception {
        CancellableContext a = Context.background().withCancel();
        CancellableContext b = Context.background().withCancel();
        CancellableContext aChild = a.withValue(Key.<String>of("k"), "v").withTimeout(Duration.ofHours(1));
        virtual("in-a", a.wrap(planted.parkedSwallowingInterrupts()));
        virtual("in-a-child", aChild.wrap(planted.parkedSwallowingInterrupts()));
        virtual("in-b", b.wrap(planted.parkedSwallowingInterrupts()));
        for (Thread t : threads) {
            Planted.awaitState(t, () -> t.getState() == Thread.State.TIMED_WAITING, "parked");
        }

        LeakReport underA = detector.runningUnder(a);
        LeakReport underB = detector.runningUnder(b);

        assertEquals(List.of("in-a", "in-a-child"), underA.tasks().stream().map(TaskInfo::thread).sorted().toList());
        assertEquals(List.of("in-b"), underB.tasks().stream().map(TaskInfo::thread).toList());
        assertTrue(underA.tasks().stream().allMatch(t -> t.classification() == Classification.RUNNING
                && t.outlivedMillis() == null && !t.leaked()));
        assertEquals(3, detector.running().tasks().size());
        a.cancel();
        b.cancel();
        aChild.cancel();
        assertTrue(detector.runningUnder(a).tasks().stream()
                .allMatch(t -> t.classification() == Classification.PARKED && t.outlivedMillis() == 0L));
    }

    @Test
    void taskGroupForks_areAttributedToTheGroupsContextWithTheForkingSite() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (CancellableContext ctx = Context.background().withCancel(); TaskGroup group = TaskGroup.open(ctx)) {
            for (int i = 0; i < 2; i++) {
                group.fork(() -> {
                    release.await();
                    return null;
                });
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Collector.WAIT_SECONDS);
            while (detector.runningUnder(ctx).tasks().size() < 2 && System.nanoTime() - deadline < 0) {
                Thread.sleep(1);
            }

            LeakReport report = detector.runningUnder(ctx);

            assertEquals(2, report.tasks().size());
            assertEquals(1, report.groups().size(), "one fork site");
            for (TaskInfo t : report.tasks()) {
                assertTrue(t.virtual());
                assertTrue(t.creationSite().contains("taskGroupForks_areAttributedToTheGroupsContextWithTheForkingSite"));
                assertEquals(2, t.lineage().size(), "the test's context, then the group's own");
                assertTrue(t.lineage().get(1).site().contains("taskGroupForks_"), t.lineage().get(1).site());
            }
            release.countDown();
            group.join();
        }
    }

    @Test
    void labelNamesAContextInReports() throws Exception {
        CancellableContext ctx = Context.background().withCancel();
        detector.label(ctx, "GET /checkout");
        virtual("labelled", ctx.wrap(planted.parkedSwallowingInterrupts()));
        Planted.awaitState(threads.get(0), () -> threads.get(0).getState() == Thread.State.TIMED_WAITING, "parked");
        ctx.cancel();
        clock.advance(GRACE);

        LeakReport report = collector.nextLeak();

        assertEquals("GET /checkout", report.tasks().get(0).owner().label());
        assertTrue(report.toText().contains("WithCancel \"GET /checkout\" made at"), report.toText());
    }

    @Test
    void offInstallsNothing() throws Exception {
        detector.close();
        assertNull(ContextObservers.installed());

        try (LeakDetector off = LeakDetector.install(options().withLevel(LeakDetector.Level.OFF))) {
            assertNull(ContextObservers.installed(), "no observer: Tether's hooks stay one volatile read");
            assertNull(LeakDetector.installed());
            CancellableContext ctx = Context.background().withCancel();
            Thread t = platform("untracked", ctx.wrap(planted.busyLoop()));
            assertTrue(planted.started.await(Collector.WAIT_SECONDS, TimeUnit.SECONDS));
            ctx.cancel();
            clock.advance(GRACE);

            assertTrue(off.leaks().isEmpty());
            assertTrue(off.running().isEmpty());
            assertTrue(off.runningUnder(ctx).isEmpty());
            assertTrue(ContextMap.capture(off).contexts().isEmpty());
            assertEquals(LeakDetector.Level.OFF, ContextMap.capture(off).level());
            assertTrue(collector.leaks.isEmpty());
            planted.release();
            t.join();
        }
    }

    @Test
    void closeUninstallsAndStopsReporting() throws Exception {
        assertSame(detector, LeakDetector.installed());
        CancellableContext ctx = Context.background().withCancel();
        platform("after-close", ctx.wrap(planted.busyLoop()));
        assertTrue(planted.started.await(Collector.WAIT_SECONDS, TimeUnit.SECONDS));

        detector.close();
        detector.close();
        ctx.cancel();
        clock.advance(GRACE);

        assertTrue(detector.isClosed());
        assertNull(LeakDetector.installed());
        assertNull(ContextObservers.installed());
        assertTrue(collector.leaks.isEmpty());
        assertTrue(detector.leaks().isEmpty());
    }

    @Test
    void aListenerThatThrowsDoesNotStopLaterReports() throws Exception {
        List<LeakReport> seen = new ArrayList<>();
        reinstall(options().withListener(new LeakListener() {
            @Override
            public void onLeak(LeakReport report) {
                seen.add(report);
                throw new IllegalStateException("listener bug");
            }
        }));
        CancellableContext first = Context.background().withCancel();
        CancellableContext second = Context.background().withCancel();
        virtual("first", first.wrap(planted.parkedSwallowingInterrupts()));
        virtual("second", second.wrap(planted.parkedSwallowingInterrupts()));
        for (Thread t : threads) {
            Planted.awaitState(t, () -> t.getState() == Thread.State.TIMED_WAITING, "parked");
        }

        first.cancel();
        clock.advance(GRACE);
        second.cancel();
        clock.advance(GRACE);

        assertEquals(List.of("first", "second"), seen.stream().map(r -> r.tasks().get(0).thread()).toList());
    }
}
