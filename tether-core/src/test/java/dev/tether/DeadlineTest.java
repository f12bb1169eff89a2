package dev.tether;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Go's WithDeadline / WithTimeout rules, all on a ManualTimeSource: nothing here sleeps. */
class DeadlineTest {

    private static final Key<String> USER = Key.of("user");
    private static final Instant START = Instant.parse("2000-01-01T00:00:00Z");

    private final ManualTimeSource time = ManualTimeSource.create(START);
    private final Context root = Context.root(time);

    @AfterEach
    void currentContextIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
    }

    @Test
    void withTimeoutSetsTheDeadlineThatFarFromNow() {
        time.advance(Duration.ofSeconds(3));

        CancellableContext ctx = root.withTimeout(Duration.ofMillis(1500));

        assertEquals(Optional.of(START.plusMillis(4500)), ctx.deadline());
        assertEquals(Optional.of(Duration.ofMillis(1500)), ctx.remaining());
        ctx.cancel();
    }

    @Test
    void withDeadlineKeepsTheGivenInstant() {
        Instant deadline = START.plusSeconds(7);

        CancellableContext ctx = root.withDeadline(deadline);

        assertSame(deadline, ctx.deadline().orElseThrow());
        assertEquals(Optional.of(Duration.ofSeconds(7)), ctx.remaining());
        ctx.cancel();
    }

    @Test
    void deadlineReturnsTheSameInstantOnEveryCall() {
        CancellableContext ctx = root.withTimeout(Duration.ofSeconds(1));
        Context value = ctx.withValue(USER, "alice");
        CancellableContext child = value.withCancel();

        Instant first = ctx.deadline().orElseThrow();

        assertSame(first, ctx.deadline().orElseThrow());
        assertSame(first, value.deadline().orElseThrow());
        assertSame(first, child.deadline().orElseThrow());
        assertSame(first, child.deadline().orElseThrow());
        ctx.cancel();
    }

    @Test
    void contextWithoutDeadlineReportsNone() {
        CancellableContext ctx = root.withCancel();

        assertTrue(root.deadline().isEmpty());
        assertTrue(root.remaining().isEmpty());
        assertTrue(ctx.deadline().isEmpty());
        assertTrue(ctx.remaining().isEmpty());
        assertTrue(Context.background().deadline().isEmpty());
        assertTrue(Context.background().remaining().isEmpty());
        ctx.cancel();
    }

    @Test
    void contextIsLiveUntilItsDeadlineAndDoneFromThen() {
        CancellableContext ctx = root.withTimeout(Duration.ofSeconds(1));

        time.advance(Duration.ofMillis(999));
        boolean liveBefore = !ctx.isDone();
        time.advance(Duration.ofMillis(1));

        assertTrue(liveBefore);
        assertTrue(ctx.isDone());
        assertInstanceOf(DeadlineExceededException.class, ctx.err());
        assertSame(ctx.err(), ctx.cause());
    }

    @Test
    void expiredDeadlineIsVisibleWithoutAnyTimerFiring() {
        CancellableContext ctx = root.withTimeout(Duration.ofSeconds(1));
        assertEquals(0, time.pendingTimers());

        time.advance(Duration.ofSeconds(2));

        assertEquals(0, time.pendingTimers(), "nobody waited, so no timer was scheduled");
        assertTrue(ctx.isDone());
        assertInstanceOf(DeadlineExceededException.class, ctx.err());
        assertEquals(0, time.pendingTimers());
    }

    @Test
    void errAfterTheDeadlineIsTheSameInstanceOnEveryCall() {
        CancellableContext ctx = root.withTimeout(Duration.ofSeconds(1));
        time.advance(Duration.ofSeconds(1));

        ContextDoneException err = ctx.err();

        assertSame(err, ctx.err());
        assertSame(err, ctx.cause());
        time.advance(Duration.ofSeconds(10));
        assertSame(err, ctx.err());
    }

    @Test
    void cancelBeforeTheDeadlineGivesContextCancelledForever() {
        CancellableContext ctx = root.withTimeout(Duration.ofSeconds(1));
        CancellableContext child = ctx.withCancel();
        time.advance(Duration.ofMillis(500));

        boolean cancelled = ctx.cancel();
        ContextDoneException err = ctx.err();
        time.advance(Duration.ofSeconds(5));

        assertTrue(cancelled);
        assertInstanceOf(ContextCancelledException.class, err);
        assertSame(err, ctx.err());
        assertSame(err, child.err());
    }

    @Test
    void onceTheDeadlinePassedUnobservedCancelReturnsFalseAndErrIsDeadlineExceeded() {
        CancellableContext ctx = root.withTimeout(Duration.ofSeconds(1));
        time.advance(Duration.ofSeconds(1));

        boolean cancelled = ctx.cancel();

        assertFalse(cancelled);
        assertInstanceOf(DeadlineExceededException.class, ctx.err());
        assertEquals(0, time.pendingTimers());
    }

    @Test
    void cancellingChildAfterInheritedDeadlinePassedReturnsFalseAndSharesTheParentsErr() {
        CancellableContext parent = root.withTimeout(Duration.ofSeconds(1));
        CancellableContext child = parent.withValue(USER, "alice").withCancel();
        time.advance(Duration.ofSeconds(1));

        boolean cancelled = child.cancel();

        assertFalse(cancelled);
        assertInstanceOf(DeadlineExceededException.class, child.err());
        assertSame(parent.err(), child.err());
    }

    @Test
    void parentDeadlineEndsEveryDescendantWithTheSameErr() {
        CancellableContext parent = root.withTimeout(Duration.ofSeconds(1));
        CancellableContext child = parent.withCancel();
        Context value = child.withValue(USER, "alice");
        CancellableContext grandchild = value.withTimeout(Duration.ofHours(1));

        time.advance(Duration.ofSeconds(1));

        assertTrue(grandchild.isDone(), "observed first, at the bottom");
        assertInstanceOf(DeadlineExceededException.class, grandchild.err());
        assertSame(grandchild.err(), value.err());
        assertSame(grandchild.err(), child.err());
        assertSame(grandchild.err(), parent.err());
    }

    @Test
    void childCreatedAfterParentDeadlinePassedUnobservedIsDoneWithParentsErr() {
        CancellableContext parent = root.withTimeout(Duration.ofSeconds(1));
        time.advance(Duration.ofSeconds(2));

        CancellableContext child = parent.withCancel();

        assertTrue(child.isDone());
        assertInstanceOf(DeadlineExceededException.class, child.err());
        assertSame(parent.err(), child.err());
    }

    @Test
    void laterChildDeadlineKeepsTheParentsDeadline() {
        CancellableContext parent = root.withTimeout(Duration.ofSeconds(1));

        CancellableContext byTimeout = parent.withTimeout(Duration.ofSeconds(5));
        CancellableContext byDeadline = parent.withValue(USER, "alice").withDeadline(START.plusSeconds(5));

        assertSame(parent.deadline().orElseThrow(), byTimeout.deadline().orElseThrow());
        assertSame(parent.deadline().orElseThrow(), byDeadline.deadline().orElseThrow());
        time.advance(Duration.ofSeconds(1));
        assertTrue(byTimeout.isDone());
        assertTrue(byDeadline.isDone());
        assertSame(parent.err(), byTimeout.err());
        assertSame(parent.err(), byDeadline.err());
    }

    @Test
    void earlierChildDeadlineWinsAndLeavesTheParentLive() {
        CancellableContext parent = root.withTimeout(Duration.ofSeconds(5));
        CancellableContext child = parent.withTimeout(Duration.ofSeconds(1));

        time.advance(Duration.ofSeconds(1));

        assertEquals(Optional.of(START.plusSeconds(1)), child.deadline());
        assertTrue(child.isDone());
        assertInstanceOf(DeadlineExceededException.class, child.err());
        assertFalse(parent.isDone());
        ContextDoneException childErr = child.err();
        time.advance(Duration.ofSeconds(4));
        assertInstanceOf(DeadlineExceededException.class, parent.err());
        assertSame(childErr, child.err(), "the child ended first and keeps its own err");
    }

    @Test
    void earliestDeadlineOnThePathWinsThroughValuesAndCancels() {
        CancellableContext outer = root.withTimeout(Duration.ofSeconds(10));
        CancellableContext middle = outer.withValue(USER, "alice").withCancel().withTimeout(Duration.ofSeconds(3));
        CancellableContext inner = middle.withCancel().withTimeout(Duration.ofSeconds(7));

        Instant innerDeadline = inner.deadline().orElseThrow();

        assertSame(middle.deadline().orElseThrow(), innerDeadline);
        assertEquals(START.plusSeconds(3), innerDeadline);
        assertEquals(Optional.of(Duration.ofSeconds(3)), inner.remaining());
        outer.cancel();
    }

    @Test
    void childWhoseOwnDeadlinePassedIsDeadlineExceededEvenIfParentIsCancelledLater() {
        CancellableContext parent = root.withTimeout(Duration.ofSeconds(10));
        CancellableContext child = parent.withTimeout(Duration.ofSeconds(1));
        time.advance(Duration.ofSeconds(2));

        parent.cancel();

        assertInstanceOf(ContextCancelledException.class, parent.err());
        assertInstanceOf(DeadlineExceededException.class, child.err(),
                "the child's deadline had passed before the parent was cancelled");
    }

    @Test
    void cancelledTimeoutChildIsCancelledNotDeadlineExceeded() {
        CancellableContext parent = root.withTimeout(Duration.ofSeconds(1));
        CancellableContext child = parent.withValue(USER, "alice").withTimeout(Duration.ofHours(1));

        child.cancel();
        time.advance(Duration.ofSeconds(2));

        assertInstanceOf(ContextCancelledException.class, child.err());
        assertInstanceOf(DeadlineExceededException.class, parent.err());
    }

    @Test
    void cancellingParentBeforeDeadlineCancelsTimedChildren() {
        CancellableContext parent = root.withCancel();
        CancellableContext child = parent.withTimeout(Duration.ofSeconds(1));

        parent.cancel();
        time.advance(Duration.ofSeconds(2));

        assertSame(parent.err(), child.err());
        assertInstanceOf(ContextCancelledException.class, child.err());
    }

    @Test
    void zeroOrNegativeTimeoutIsDoneAtOnceWithDeadlineExceeded() {
        List<CancellableContext> contexts = List.of(
                root.withTimeout(Duration.ZERO),
                root.withTimeout(Duration.ofNanos(-1)),
                root.withTimeout(Duration.ofDays(-3)),
                root.withDeadline(START),
                root.withDeadline(START.minusMillis(1)));

        for (CancellableContext ctx : contexts) {
            assertTrue(ctx.isDone(), ctx.toString());
            assertInstanceOf(DeadlineExceededException.class, ctx.err(), ctx.toString());
            assertSame(ctx.err(), ctx.cause());
            assertFalse(ctx.cancel(), ctx.toString());
            assertEquals(Optional.of(Duration.ZERO), ctx.remaining());
        }
        assertEquals(0, time.pendingTimers());
    }

    @Test
    void zeroTimeoutOnBackgroundIsDoneAtOnce() {
        CancellableContext ctx = Context.background().withTimeout(Duration.ZERO);

        assertTrue(ctx.isDone());
        assertInstanceOf(DeadlineExceededException.class, ctx.err());
    }

    @Test
    void zeroTimeoutChildIsNotLinkedToItsParent() {
        CancelContext parent = (CancelContext) root.withCancel();

        parent.withTimeout(Duration.ZERO);
        parent.withDeadline(START.minusSeconds(1));

        assertEquals(0, parent.childCount());
        parent.cancel();
    }

    @Test
    void zeroTimeoutOnCancelledParentTakesTheParentsErrAndCause() {
        CancellableContext parent = root.withCancel();
        RuntimeException cause = new RuntimeException("cancelled first");
        parent.cancel(cause);

        List<CancellableContext> children = List.of(
                parent.withTimeout(Duration.ZERO),
                parent.withTimeout(Duration.ofSeconds(-1)),
                parent.withDeadline(START.minusSeconds(1)),
                parent.withValue(USER, "alice").withTimeout(Duration.ZERO));

        for (CancellableContext child : children) {
            assertSame(parent.err(), child.err(), child.toString());
            assertInstanceOf(ContextCancelledException.class, child.err());
            assertSame(cause, child.cause());
        }
    }

    @Test
    void zeroTimeoutOnParentPastItsDeadlineTakesTheParentsErr() {
        CancellableContext parent = root.withTimeout(Duration.ofSeconds(1));
        time.advance(Duration.ofSeconds(1));

        CancellableContext child = parent.withTimeout(Duration.ZERO);

        assertSame(parent.err(), child.err());
    }

    @Test
    void noTimerIsScheduledWhileNobodyWaits() {
        CancellableContext ctx = root.withTimeout(Duration.ofSeconds(1));
        CancellableContext child = ctx.withTimeout(Duration.ofSeconds(5));

        ctx.isDone();
        ctx.err();
        ctx.cause();
        ctx.deadline();
        ctx.remaining();
        child.isDone();
        child.throwIfDone();

        assertEquals(0, time.pendingTimers());
        ctx.cancel();
    }

    @Test
    void waitingSchedulesOneTimerPerDeadline() {
        CancellableContext ctx = root.withTimeout(Duration.ofSeconds(1));
        CancellableContext inheriting = ctx.withValue(USER, "alice").withCancel();

        ctx.onDone(() -> { }, Runnable::run);
        ctx.onDone(() -> { }, Runnable::run);
        ctx.done();
        inheriting.onDone(() -> { }, Runnable::run);
        inheriting.done();

        assertEquals(1, time.pendingTimers());
        ctx.cancel();
    }

    @Test
    void noTimerIsScheduledForAContextWithoutDeadline() {
        CancellableContext ctx = root.withCancel();

        ctx.onDone(() -> { }, Runnable::run);
        ctx.done();

        assertEquals(0, time.pendingTimers());
        ctx.cancel();
    }

    @Test
    void cancellingRemovesTheScheduledTimer() {
        CancellableContext byOnDone = root.withTimeout(Duration.ofSeconds(1));
        CancellableContext byDone = root.withTimeout(Duration.ofSeconds(2));
        byOnDone.onDone(() -> { }, Runnable::run);
        byDone.done();
        assertEquals(2, time.pendingTimers());

        byOnDone.cancel();
        byDone.close();

        assertEquals(0, time.pendingTimers());
    }

    @Test
    void cancellingParentRemovesTheTimersOfDescendantsWithTheirOwnDeadline() {
        CancellableContext parent = root.withCancel();
        CancellableContext child = parent.withTimeout(Duration.ofSeconds(1));
        child.withTimeout(Duration.ofMillis(500)).onDone(() -> { }, Runnable::run);
        child.done();
        assertEquals(2, time.pendingTimers());

        parent.cancel();

        assertEquals(0, time.pendingTimers());
    }

    @Test
    void deadlineObservedBeforeItsTimerRunsRemovesTheTimerAndRunsActionsOnce() {
        CancellableContext observer = root.withTimeout(Duration.ofSeconds(1));
        CancellableContext ctx = root.withTimeout(Duration.ofSeconds(1));
        AtomicInteger runs = new AtomicInteger();
        observer.onDone(ctx::isDone, Runnable::run); // scheduled first, so it runs first at 1 s
        ctx.onDone(runs::incrementAndGet, Runnable::run);
        assertEquals(2, time.pendingTimers());

        time.advance(Duration.ofSeconds(1));

        assertEquals(0, time.pendingTimers());
        assertEquals(1, runs.get());
        assertInstanceOf(DeadlineExceededException.class, ctx.err());
    }

    @Test
    void scheduledTimerEndsTheContextAtItsDeadline() {
        CancellableContext ctx = root.withTimeout(Duration.ofSeconds(1));
        CancellableContext child = ctx.withCancel();
        AtomicInteger runs = new AtomicInteger();
        Thread[] ranOn = new Thread[1];
        child.onDone(() -> {
            runs.incrementAndGet();
            ranOn[0] = Thread.currentThread();
        }, Runnable::run);

        time.advance(Duration.ofMillis(999));
        int runsBefore = runs.get();
        time.advance(Duration.ofMillis(1));

        assertEquals(0, runsBefore);
        assertEquals(1, runs.get());
        assertSame(Thread.currentThread(), ranOn[0], "ManualTimeSource runs due timers in advance()");
        assertEquals(0, time.pendingTimers());
        assertSame(ctx.err(), child.err());
        assertInstanceOf(DeadlineExceededException.class, ctx.err());
    }

    @Test
    void timersFireInDeadlineOrder() {
        List<String> order = new ArrayList<>();
        root.withTimeout(Duration.ofSeconds(3)).onDone(() -> order.add("3s"), Runnable::run);
        root.withTimeout(Duration.ofSeconds(1)).onDone(() -> order.add("1s"), Runnable::run);
        root.withTimeout(Duration.ofSeconds(2)).onDone(() -> order.add("2s"), Runnable::run);

        time.advance(Duration.ofSeconds(10));

        assertEquals(List.of("1s", "2s", "3s"), order);
    }

    @Test
    void remainingCountsDownToZeroAndNeverBelow() {
        CancellableContext ctx = root.withTimeout(Duration.ofSeconds(1));
        Context value = ctx.withValue(USER, "alice");

        time.advance(Duration.ofMillis(300));
        Optional<Duration> afterThreeHundred = value.remaining();
        time.advance(Duration.ofSeconds(5));

        assertEquals(Optional.of(Duration.ofMillis(700)), afterThreeHundred);
        assertEquals(Optional.of(Duration.ZERO), ctx.remaining());
        assertEquals(Optional.of(Duration.ZERO), value.remaining());
    }

    @Test
    void remainingIsSharedByDescendantsAndViews() {
        CancellableContext ctx = root.withTimeout(Duration.ofSeconds(2));
        CancellableContext child = ctx.withCancel();
        Context view;
        try (Scope ignored = ctx.attach()) {
            view = Context.current();
        }

        time.advance(Duration.ofMillis(500));

        assertEquals(Optional.of(Duration.ofMillis(1500)), child.remaining());
        assertEquals(Optional.of(Duration.ofMillis(1500)), view.remaining());
        assertSame(ctx.deadline().orElseThrow(), view.deadline().orElseThrow());
        assertTrue(ctx.withoutCancel().remaining().isEmpty());
        ctx.cancel();
    }

    @Test
    void descendantsUseTheRootsTimeSource() {
        CancellableContext ctx = root.withTimeout(Duration.ofSeconds(1));

        TimeSource source = ctx.withValue(USER, "a").withCancel().withoutCancel().timeSource();

        assertSame(time, root.timeSource());
        assertSame(time, source);
        assertSame(TimeSource.system(), Context.background().timeSource());
        assertSame(TimeSource.system(), Context.background().withCancel().timeSource());
        ctx.cancel();
    }

    @Test
    void hugeTimeoutDoesNotOverflow() {
        CancellableContext ctx = assertDoesNotThrow(() -> root.withTimeout(Duration.ofSeconds(Long.MAX_VALUE)));

        time.advance(Duration.ofDays(365 * 50));

        assertFalse(ctx.isDone());
        assertTrue(ctx.deadline().orElseThrow().isAfter(time.now()));
        assertTrue(ctx.remaining().orElseThrow().compareTo(Duration.ofDays(365)) > 0);
        assertDoesNotThrow(ctx::toString);
        CancellableContext child = ctx.withTimeout(Duration.ofSeconds(1));
        assertEquals(Optional.of(time.now().plusSeconds(1)), child.deadline(), "a nearer deadline still wins");
        ctx.onDone(() -> { }, Runnable::run);
        assertEquals(1, time.pendingTimers());
        ctx.cancel();
        assertEquals(0, time.pendingTimers());
    }

    @Test
    void farDeadlineDoesNotOverflow() {
        CancellableContext ctx = assertDoesNotThrow(() -> root.withDeadline(Instant.MAX));
        CancellableContext child = ctx.withDeadline(Instant.MAX);

        time.advance(Duration.ofDays(365 * 50));

        assertSame(Instant.MAX, ctx.deadline().orElseThrow());
        assertSame(Instant.MAX, child.deadline().orElseThrow());
        assertFalse(child.isDone());
        assertTrue(ctx.remaining().orElseThrow().compareTo(Duration.ofDays(365)) > 0);
        assertDoesNotThrow(ctx::toString);
        ctx.cancel();
    }

    @Test
    void hugeTimeoutsOnTheSystemClockDoNotOverflow() {
        CancellableContext timeout = assertDoesNotThrow(
                () -> Context.background().withTimeout(Duration.ofSeconds(Long.MAX_VALUE, 999_999_999)));
        CancellableContext deadline = assertDoesNotThrow(() -> Context.background().withDeadline(Instant.MAX));

        assertFalse(timeout.isDone());
        assertFalse(deadline.isDone());
        assertTrue(timeout.deadline().isPresent());
        assertDoesNotThrow(timeout::toString);
        timeout.onDone(() -> { }, Runnable::run);
        timeout.cancel();
        deadline.cancel();
        assertInstanceOf(ContextCancelledException.class, timeout.err());
    }

    @Test
    void hugeNegativeTimeoutsAreDoneAtOnceWithoutOverflow() {
        CancellableContext timeout = assertDoesNotThrow(() -> root.withTimeout(Duration.ofSeconds(Long.MIN_VALUE)));
        CancellableContext deadline = assertDoesNotThrow(() -> root.withDeadline(Instant.MIN));
        CancellableContext onSystemClock =
                assertDoesNotThrow(() -> Context.background().withTimeout(Duration.ofSeconds(Long.MIN_VALUE)));

        assertInstanceOf(DeadlineExceededException.class, timeout.err());
        assertInstanceOf(DeadlineExceededException.class, deadline.err());
        assertInstanceOf(DeadlineExceededException.class, onSystemClock.err());
        assertSame(Instant.MIN, deadline.deadline().orElseThrow());
        assertEquals(Optional.of(Duration.ZERO), deadline.remaining());
    }

    @Test
    void expiredDeadlineReachesTheLeafOfAVeryDeepChainWithoutOverflowingTheStack() {
        CancellableContext top = root.withTimeout(Duration.ofSeconds(1));
        CancellableContext leaf = top;
        for (int i = 0; i < 100_000; i++) {
            leaf = leaf.withCancel();
        }
        time.advance(Duration.ofSeconds(1));
        CancellableContext deepest = leaf;

        boolean done = assertDoesNotThrow(() -> deepest.isDone(), "isDone() of a deep leaf");

        assertTrue(done);
        assertSame(top.err(), assertDoesNotThrow(deepest::err));
    }

    @Test
    void layersOfValuesCancelsAndTimeoutsAllEndAtTheEarliestDeadline() {
        for (long seed = 1; seed <= 25; seed++) {
            Random random = new Random(seed);
            ManualTimeSource clock = ManualTimeSource.create(START);
            List<Key<Integer>> keys = new ArrayList<>();
            int timers = 0;
            long earliest = Long.MAX_VALUE;
            Context ctx = Context.root(clock);
            for (int i = 0; i < 30 || keys.isEmpty() || timers == 0; i++) {
                switch (random.nextInt(3)) {
                    case 0 -> {
                        Key<Integer> key = Key.of("k" + i);
                        ctx = ctx.withValue(key, i);
                        keys.add(key);
                    }
                    case 1 -> ctx = ctx.withCancel();
                    default -> {
                        long millis = 1 + random.nextInt(1000);
                        earliest = Math.min(earliest, millis);
                        ctx = ctx.withTimeout(Duration.ofMillis(millis));
                        timers++;
                    }
                }
            }
            assertEquals(Optional.of(START.plusMillis(earliest)), ctx.deadline(), "seed " + seed);

            clock.advance(Duration.ofMillis(earliest - 1));
            boolean liveBefore = !ctx.isDone();
            clock.advance(Duration.ofMillis(1));

            assertTrue(liveBefore, "seed " + seed);
            assertTrue(ctx.isDone(), "seed " + seed);
            assertInstanceOf(DeadlineExceededException.class, ctx.err(), "seed " + seed);
            for (Key<Integer> key : keys) {
                assertEquals(Integer.valueOf(key.name().substring(1)), ctx.value(key), "seed " + seed);
            }
        }
    }
}
