package dev.tether;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** toString() shows the lineage from the root, the way Go's String() does. */
class LineageTest {

    private static final Key<String> USER = Key.of("user");
    private static final Key<Integer> ATTEMPT = Key.of("attempt");
    private static final Key<Object> SECRET = Key.of("secret");

    private final ManualTimeSource time = ManualTimeSource.create(Instant.parse("2000-01-01T00:00:00Z"));
    private final Context root = Context.root(time);

    @AfterEach
    void currentContextIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
    }

    @Test
    void rootsPrintTheirName() {
        assertEquals("Background", Context.background().toString());
        assertEquals("TODO", Context.todo().toString());
        assertEquals("Root(ManualTimeSource)", root.toString());
    }

    @Test
    void withCancelAppendsWithCancel() {
        CancellableContext ctx = Context.background().withCancel();

        String lineage = ctx.withCancel().toString();

        assertEquals("Background.WithCancel", ctx.toString());
        assertEquals("Background.WithCancel.WithCancel", lineage);
        ctx.cancel();
    }

    @Test
    void todoIsTheRootOfItsLineage() {
        CancellableContext ctx = Context.todo().withCancel();

        assertEquals("TODO.WithCancel", ctx.toString());
        ctx.cancel();
    }

    @Test
    void withDeadlinePrintsTheDeadlineAndTheTimeLeft() {
        CancellableContext ctx = root.withDeadline(Instant.parse("2000-01-01T00:00:01Z"));

        String atStart = ctx.toString();
        time.advance(Duration.ofMillis(500));
        String halfway = ctx.toString();

        assertEquals("Root(ManualTimeSource).WithDeadline(2000-01-01T00:00:01Z [1000ms])", atStart);
        assertEquals("Root(ManualTimeSource).WithDeadline(2000-01-01T00:00:01Z [500ms])", halfway);
        ctx.cancel();
    }

    @Test
    void withTimeoutPrintsAsWithDeadline() {
        CancellableContext ctx = root.withTimeout(Duration.ofMillis(300));

        time.advance(Duration.ofNanos(500_000));

        assertEquals("Root(ManualTimeSource).WithDeadline(2000-01-01T00:00:00.300Z [299.5ms])", ctx.toString());
        ctx.cancel();
    }

    @Test
    void backgroundWithDeadlinePrintsThatPrefix() {
        CancellableContext byDeadline = Context.background().withDeadline(Instant.parse("2100-01-01T00:00:00Z"));
        CancellableContext byTimeout = Context.background().withTimeout(Duration.ofHours(1));

        String lineage = byDeadline.toString();

        assertTrue(lineage.startsWith("Background.WithDeadline(2100-01-01T00:00:00Z ["), lineage);
        assertTrue(lineage.endsWith("])"), lineage);
        assertTrue(byTimeout.toString().startsWith("Background.WithDeadline("), byTimeout.toString());
        byDeadline.cancel();
        byTimeout.cancel();
    }

    @Test
    void deadlineThatPassedPrintsANegativeTimeLeft() {
        CancellableContext ctx = root.withTimeout(Duration.ofMillis(10));

        time.advance(Duration.ofMillis(13));
        String threeLate = ctx.toString();
        CancellableContext other = root.withTimeout(Duration.ZERO);
        time.advance(Duration.ofNanos(500_000));
        String halfLate = other.toString();

        assertTrue(threeLate.endsWith("[-3ms])"), threeLate);
        assertTrue(halfLate.endsWith("[-0.5ms])"), halfLate);
    }

    @Test
    void laterChildDeadlinePrintsAsWithCancelBecauseTheParentsDeadlineIsKept() {
        CancellableContext parent = root.withTimeout(Duration.ofSeconds(1));

        CancellableContext child = parent.withTimeout(Duration.ofSeconds(5));

        assertEquals(parent + ".WithCancel", child.toString());
        parent.cancel();
    }

    @Test
    void withValuePrintsKeyNameAndPlainValues() {
        Context user = Context.background().withValue(USER, "alice");
        Context attempt = user.withValue(ATTEMPT, 3);

        String lineage = attempt.toString();

        assertEquals("Background.WithValue(user, alice)", user.toString());
        assertEquals("Background.WithValue(user, alice).WithValue(attempt, 3)", lineage);
    }

    @Test
    void withValuePrintsOtherObjectsByTheirTypeOnly() {
        record Credentials(String password) {
            @Override
            public String toString() {
                return "password=" + password;
            }
        }

        String lineage = Context.background().withValue(SECRET, new Credentials("hunter2")).toString();

        assertFalse(lineage.contains("hunter2"), lineage);
        assertEquals("Background.WithValue(secret, <Credentials>)", lineage);
    }

    @Test
    void withoutCancelAppendsWithoutCancel() {
        CancellableContext ctx = Context.background().withCancel();

        String lineage = ctx.withoutCancel().toString();

        assertEquals("Background.WithCancel.WithoutCancel", lineage);
        ctx.cancel();
    }

    @Test
    void viewPrintsAsItsContextAndIsLeftOutOfItsChildrensLineage() {
        CancellableContext ctx = Context.background().withValue(USER, "alice").withCancel();

        String view;
        String childOfView;
        try (Scope ignored = ctx.attach()) {
            view = Context.current().toString();
            childOfView = Context.current().withCancel().toString();
        }

        assertEquals("Background.WithValue(user, alice).WithCancel", view);
        assertEquals("Background.WithValue(user, alice).WithCancel.WithCancel", childOfView);
        ctx.cancel();
    }

    @Test
    void longLineageKeepsEveryLayerInOrder() {
        CancellableContext deadline = root.withValue(USER, "alice").withCancel()
                .withDeadline(Instant.parse("2000-01-01T00:00:02Z"));

        String lineage = deadline.withoutCancel().withValue(ATTEMPT, 1).toString();

        assertEquals("Root(ManualTimeSource).WithValue(user, alice).WithCancel"
                + ".WithDeadline(2000-01-01T00:00:02Z [2000ms]).WithoutCancel.WithValue(attempt, 1)", lineage);
        deadline.cancel();
    }
}
