package dev.tether;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Go's WithCancel rules: cancel, propagation down the tree (never up), done parents, unlinking. */
class CancellationTest {

    private static final Key<String> USER = Key.of("user");
    private static final Duration LONG = Duration.ofHours(1000);

    @AfterEach
    void currentContextIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
    }

    @Test
    void newCancellableChildIsLive() {
        CancellableContext ctx = Context.background().withCancel();

        boolean done = ctx.isDone();

        assertFalse(done);
        assertNull(ctx.err());
        assertNull(ctx.cause());
        assertTrue(ctx.deadline().isEmpty());
        assertDoesNotThrow(ctx::throwIfDone);
        ctx.cancel();
    }

    @Test
    void cancelEndsTheContextWithContextCancelledException() {
        CancellableContext ctx = Context.background().withCancel();

        boolean cancelled = ctx.cancel();

        assertTrue(cancelled);
        assertTrue(ctx.isDone());
        assertInstanceOf(ContextCancelledException.class, ctx.err());
        assertSame(ctx.err(), ctx.cause());
    }

    @Test
    void cancelReturnsTrueOnlyOnce() {
        CancellableContext ctx = Context.background().withCancel();

        boolean first = ctx.cancel();
        boolean second = ctx.cancel();
        boolean third = ctx.cancel(new IllegalStateException("late"));

        assertTrue(first);
        assertFalse(second);
        assertFalse(third);
    }

    @Test
    void cancelWithNullCauseIsTheSameAsCancel() {
        CancellableContext ctx = Context.background().withCancel();

        boolean cancelled = ctx.cancel(null);

        assertTrue(cancelled);
        assertInstanceOf(ContextCancelledException.class, ctx.err());
        assertNull(ctx.err().getCause());
        assertSame(ctx.err(), ctx.cause());
        assertFalse(ctx.cancel());
    }

    @Test
    void closeIsTheSameAsCancel() {
        CancellableContext ctx = Context.background().withCancel();

        ctx.close();

        assertTrue(ctx.isDone());
        assertInstanceOf(ContextCancelledException.class, ctx.err());
        assertSame(ctx.err(), ctx.cause());
        assertFalse(ctx.cancel(), "close() already cancelled it");
        assertDoesNotThrow(ctx::close, "close is idempotent and never throws");
    }

    @Test
    void tryWithResourcesCancelsOnExit() {
        CancellableContext escaped;

        try (CancellableContext ctx = Context.background().withCancel()) {
            escaped = ctx;
            assertFalse(ctx.isDone());
        }

        assertTrue(escaped.isDone());
        assertInstanceOf(ContextCancelledException.class, escaped.err());
    }

    @Test
    void errReturnsTheSameInstanceOnEveryCall() {
        CancellableContext ctx = Context.background().withCancel();
        CancellableContext child = ctx.withCancel();
        Context value = child.withValue(USER, "alice");

        ctx.cancel();

        ContextDoneException err = ctx.err();
        assertSame(err, ctx.err());
        assertSame(err, ctx.err());
        assertSame(err, child.err());
        assertSame(err, value.err());
        assertSame(err, value.err());
    }

    @Test
    void cancellingParentCancelsEveryDescendant() {
        CancellableContext parent = Context.background().withCancel();
        CancellableContext cancelChild = parent.withCancel();
        Context valueChild = parent.withValue(USER, "alice");
        CancellableContext timerChild = valueChild.withTimeout(LONG);
        CancellableContext deadlineChild = parent.withDeadline(Instant.now().plus(LONG));
        CancellableContext grandchild = cancelChild.withCancel().withCancel();
        List<Context> descendants = List.of(cancelChild, valueChild, timerChild, deadlineChild, grandchild);
        descendants.forEach(c -> assertFalse(c.isDone()));

        parent.cancel();

        for (Context c : descendants) {
            assertTrue(c.isDone(), c.toString());
            assertInstanceOf(ContextCancelledException.class, c.err(), c.toString());
            assertSame(parent.err(), c.err(), c.toString());
            assertSame(parent.cause(), c.cause(), c.toString());
        }
    }

    @Test
    void descendantsShareTheParentsCause() {
        CancellableContext parent = Context.background().withCancel();
        CancellableContext child = parent.withValue(USER, "alice").withCancel();
        CancellableContext grandchild = child.withTimeout(LONG);
        RuntimeException cause = new RuntimeException("client went away");

        parent.cancel(cause);

        assertSame(cause, parent.cause());
        assertSame(cause, child.cause());
        assertSame(cause, grandchild.cause());
        assertSame(parent.err(), grandchild.err());
    }

    @Test
    void cancellingChildDoesNotAffectParentOrSiblings() {
        CancellableContext parent = Context.background().withCancel();
        CancellableContext child = parent.withCancel();
        CancellableContext sibling = parent.withCancel();
        CancellableContext timerChild = parent.withTimeout(LONG);

        child.cancel(new RuntimeException("only me"));
        timerChild.cancel();

        assertTrue(child.isDone());
        assertTrue(timerChild.isDone());
        assertFalse(parent.isDone());
        assertNull(parent.err());
        assertNull(parent.cause());
        assertFalse(sibling.isDone());
        assertNull(sibling.err());
        parent.cancel();
    }

    @Test
    void cancellingChildOfBackgroundLeavesBackgroundLive() {
        CancellableContext child = Context.background().withCancel();

        child.cancel();

        assertFalse(Context.background().isDone());
        assertNull(Context.background().err());
    }

    @Test
    void childOfCancelledParentIsDoneAtOnceWithParentsErrAndCause() {
        CancellableContext parent = Context.background().withCancel();
        RuntimeException cause = new RuntimeException("because");
        parent.cancel(cause);

        List<Context> children = List.of(
                parent.withCancel(),
                parent.withTimeout(LONG),
                parent.withDeadline(Instant.now().plus(LONG)),
                parent.withValue(USER, "alice"),
                parent.withValue(USER, "alice").withCancel(),
                parent.withCancel().withCancel());

        for (Context child : children) {
            assertTrue(child.isDone(), child.toString());
            assertSame(parent.err(), child.err(), child.toString());
            assertSame(cause, child.cause(), child.toString());
        }
    }

    @Test
    void childOfCancelledParentCannotBeCancelledAgain() {
        CancellableContext parent = Context.background().withCancel();
        parent.cancel();
        CancellableContext child = parent.withCancel();

        boolean cancelled = child.cancel(new RuntimeException("too late"));

        assertFalse(cancelled);
        assertSame(parent.err(), child.err());
        assertSame(parent.err(), child.cause());
    }

    @Test
    void childOfCancelledParentIsNotLinkedToIt() {
        CancellableContext parent = Context.background().withCancel();
        parent.cancel();

        parent.withCancel();
        parent.withTimeout(LONG);
        parent.withValue(USER, "alice").withCancel();

        assertEquals(0, ((CancelContext) parent).childCount());
    }

    @Test
    void parentLinksItsCancellableChildrenThroughValueContexts() {
        CancellableContext parent = Context.background().withCancel();

        linked(parent.withCancel());
        parent.withValue(USER, "alice").withTimeout(LONG);
        parent.withValue(USER, "alice");

        assertEquals(2, ((CancelContext) parent).childCount(), "a value context is not a child to cancel");
        parent.cancel();
    }

    /** A plain child links into its parent only once something must hear of its end: a child or a listener. */
    @Test
    void plainChildLinksOnlyWhenItNeedsTo() {
        CancelContext parent = (CancelContext) Context.background().withCancel();
        CancellableContext leaf = parent.withCancel();
        assertEquals(0, parent.childCount(), "a leaf reads its parent's state instead");

        CancellableContext grandchild = leaf.withCancel();

        assertEquals(1, parent.childCount(), "a context with a child must hear of its own end");
        assertEquals(0, ((CancelContext) leaf).childCount(), "the grandchild is a leaf itself");
        RuntimeException why = new RuntimeException("why");
        parent.cancel(why);
        assertSame(parent.err(), leaf.err());
        assertSame(parent.err(), grandchild.err());
        assertSame(why, grandchild.cause());
        assertFalse(grandchild.cancel(), "a leaf whose parent ended is done, though nobody told it");
    }

    /** Links {@code child} into its parent, as a listener or a child of its own would. */
    private static CancellableContext linked(CancellableContext child) {
        child.onDone(() -> { }, Runnable::run);
        return child;
    }

    @Test
    void cancellingChildUnlinksItFromParent() {
        CancelContext parent = (CancelContext) Context.background().withCancel();
        CancellableContext cancelChild = linked(parent.withCancel());
        CancellableContext timerChild = parent.withTimeout(LONG);
        CancellableContext valueChild = linked(parent.withValue(USER, "alice").withCancel());
        assertEquals(3, parent.childCount());

        cancelChild.cancel();
        timerChild.cancel();
        valueChild.close();

        assertEquals(0, parent.childCount());
        parent.cancel();
    }

    @Test
    void cancellingOneChildKeepsTheOthersLinked() {
        CancelContext parent = (CancelContext) Context.background().withCancel();
        CancellableContext first = linked(parent.withCancel());
        CancellableContext second = linked(parent.withCancel());
        CancellableContext third = linked(parent.withCancel());

        second.cancel();

        assertEquals(2, parent.childCount());
        first.cancel();
        third.cancel();
        assertEquals(0, parent.childCount());
    }

    @Test
    void cancellingParentReleasesAllItsChildren() {
        CancelContext parent = (CancelContext) Context.background().withCancel();
        for (int i = 0; i < 10; i++) {
            linked(parent.withCancel());
            parent.withTimeout(LONG);
        }
        assertEquals(20, parent.childCount());

        parent.cancel();

        assertEquals(0, parent.childCount());
    }

    @Test
    void firstCancelWinsAndItsCauseSticks() {
        CancellableContext ctx = Context.background().withCancel();
        RuntimeException first = new RuntimeException("first");
        RuntimeException second = new RuntimeException("second");

        ctx.cancel(first);
        ContextDoneException err = ctx.err();
        ctx.cancel(second);
        ctx.cancel();

        assertSame(first, ctx.cause());
        assertSame(err, ctx.err());
        assertSame(first, err.getCause());
    }

    @Test
    void childCancelledFirstKeepsItsOwnErrAndCauseWhenParentIsCancelledLater() {
        CancellableContext parent = Context.background().withCancel();
        CancellableContext child = parent.withCancel();
        RuntimeException childCause = new RuntimeException("child");
        RuntimeException parentCause = new RuntimeException("parent");
        child.cancel(childCause);
        ContextDoneException childErr = child.err();

        parent.cancel(parentCause);

        assertSame(childErr, child.err());
        assertSame(childCause, child.cause());
        assertNotSame(parent.err(), child.err());
        assertSame(parentCause, parent.cause());
    }

    @Test
    void cancelledStateIsVisibleThroughEveryKindOfDerivedContext() {
        CancellableContext parent = Context.background().withCancel();
        Context value = parent.withValue(USER, "alice");
        Context view;
        try (Scope ignored = parent.attach()) {
            view = Context.current();
        }
        Context viewChild = view.withCancel();

        parent.cancel();

        assertTrue(value.isDone());
        assertTrue(view.isDone());
        assertTrue(viewChild.isDone());
        assertSame(parent.err(), view.err());
        assertSame(parent.err(), viewChild.err());
    }

    @Test
    void cancellingAVeryDeepChainReachesTheLeafWithoutOverflowingTheStack() {
        CancellableContext root = Context.background().withCancel();
        CancellableContext leaf = root;
        for (int i = 0; i < 100_000; i++) {
            leaf = leaf.withCancel();
        }

        root.cancel();

        assertTrue(leaf.isDone());
        ContextDoneException leafErr = assertDoesNotThrow(leaf::err, "err() of a deep leaf");
        assertSame(root.err(), leafErr);
    }

    @Test
    void onDoneActionThatCancelsTheChildDoesNotDeadlock() throws Exception {
        CancellableContext parent = Context.background().withCancel();
        CancellableContext child = parent.withCancel();
        parent.onDone(child::cancel);

        parent.cancel();

        TestSupport.await(child.done());
        assertTrue(child.isDone());
    }

    @Test
    void layersOfValuesCancelsAndTimeoutsAllEndWhenAnyCancellableLayerIsCancelled() {
        for (long seed = 1; seed <= 25; seed++) {
            Random random = new Random(seed);
            List<Key<Integer>> keys = new ArrayList<>();
            List<CancellableContext> cancellables = new ArrayList<>();
            Context ctx = Context.background();
            for (int i = 0; i < 30 || keys.isEmpty() || cancellables.isEmpty(); i++) {
                switch (random.nextInt(3)) {
                    case 0 -> {
                        Key<Integer> key = Key.of("k" + i);
                        ctx = ctx.withValue(key, i);
                        keys.add(key);
                    }
                    case 1 -> {
                        CancellableContext c = ctx.withCancel();
                        cancellables.add(c);
                        ctx = c;
                    }
                    default -> {
                        CancellableContext c = ctx.withTimeout(LONG);
                        cancellables.add(c);
                        ctx = c;
                    }
                }
            }
            assertFalse(ctx.isDone(), "seed " + seed);
            assertTrue(ctx.toString().startsWith("Background."), ctx.toString());
            CancellableContext victim = cancellables.get(random.nextInt(cancellables.size()));

            victim.cancel();

            assertTrue(ctx.isDone(), "seed " + seed);
            assertSame(victim.err(), ctx.err(), "seed " + seed);
            for (Key<Integer> key : keys) {
                assertEquals(Integer.valueOf(key.name().substring(1)), ctx.value(key), "seed " + seed);
            }
            cancellables.forEach(CancellableContext::cancel);
        }
    }
}
