package dev.tether;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Go's WithValue rules: nearest binding wins, keys by identity, parents unchanged; and the value trie. */
class ValuesTest {

    private static final Key<String> K1 = Key.of("k1");
    private static final Key<String> K2 = Key.of("k2");
    private static final Key<String> K3 = Key.of("k3");

    @AfterEach
    void currentContextIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
    }

    private static void check(Context c, String v1, String v2, String v3) {
        assertEquals(v1, c.value(K1), "k1 in " + c);
        assertEquals(v2, c.value(K2), "k2 in " + c);
        assertEquals(v3, c.value(K3), "k3 in " + c);
    }

    @Test
    void rootsCarryNoValues() {
        check(Context.background(), null, null, null);
        check(Context.todo(), null, null, null);
        check(Context.root(ManualTimeSource.create()), null, null, null);
    }

    @Test
    void eachBindingAddsOneValueAndLeavesItsParentUnchanged() {
        Context c0 = Context.background();

        Context c1 = c0.withValue(K1, "c1k1");
        Context c2 = c1.withValue(K2, "c2k2");
        Context c3 = c2.withValue(K3, "c3k3");

        check(c0, null, null, null);
        check(c1, "c1k1", null, null);
        check(c2, "c1k1", "c2k2", null);
        check(c3, "c1k1", "c2k2", "c3k3");
    }

    @Test
    void nearestBindingWins() {
        Context outer = Context.background().withValue(K1, "outer").withValue(K2, "kept");

        Context inner = outer.withCancel().withValue(K1, "inner");
        Context innermost = inner.withValue(K1, "innermost");

        assertEquals("innermost", innermost.value(K1));
        assertEquals("inner", inner.value(K1));
        assertEquals("outer", outer.value(K1));
        assertEquals("kept", innermost.value(K2));
    }

    @Test
    void valueIsReturnedAsTheSameInstance() {
        Key<List<String>> key = Key.of("list");
        List<String> list = new ArrayList<>();

        Context ctx = Context.background().withValue(key, list);

        assertSame(list, ctx.value(key));
    }

    @Test
    void keysAreComparedByIdentityNotByName() {
        Key<String> first = Key.of("tenant");
        Key<String> second = Key.of("tenant");

        Context ctx = Context.background().withValue(first, "acme");

        assertNotSame(first, second);
        assertEquals("tenant", first.name());
        assertEquals(first.name(), second.name());
        assertEquals("acme", ctx.value(first));
        assertNull(ctx.value(second), "a key with the same name is a different key");
    }

    @Test
    void siblingsDoNotSeeEachOthersValues() {
        Context parent = Context.background().withValue(K1, "shared");

        Context left = parent.withValue(K2, "left");
        Context right = parent.withValue(K3, "right");

        check(left, "shared", "left", null);
        check(right, "shared", null, "right");
        check(parent, "shared", null, null);
    }

    @Test
    void valuesPassThroughEveryKindOfDerivedContext() {
        ManualTimeSource time = ManualTimeSource.create();
        Context ctx = Context.root(time).withValue(K1, "v1");

        CancellableContext cancel = ctx.withCancel();
        CancellableContext timeout = cancel.withTimeout(Duration.ofSeconds(1));
        CancellableContext deadline = timeout.withDeadline(time.now().plusSeconds(2));
        Context detached = deadline.withoutCancel();
        Context view;
        try (Scope ignored = deadline.attach()) {
            view = Context.current();
        }

        for (Context c : List.of(cancel, timeout, deadline, detached, view, view.withValue(K2, "v2"))) {
            assertEquals("v1", c.value(K1), c.toString());
        }
        cancel.cancel();
    }

    @Test
    void valuesSurviveCancellationAndDeadlines() {
        ManualTimeSource time = ManualTimeSource.create();
        CancellableContext timed = Context.root(time).withValue(K1, "a").withTimeout(Duration.ofSeconds(1));
        CancellableContext cancelled = Context.background().withValue(K2, "b").withCancel();

        time.advance(Duration.ofSeconds(1));
        cancelled.cancel();

        assertTrue(timed.isDone());
        assertEquals("a", timed.value(K1));
        assertEquals("b", cancelled.value(K2));
        assertEquals("b", cancelled.withValue(K3, "c").value(K2));
    }

    @Test
    void addingValueDoesNotChangeDoneState() {
        CancellableContext ctx = Context.background().withCancel();

        Context value = ctx.withValue(K1, "v");

        assertFalse(value.isDone());
        ctx.cancel();
        assertTrue(value.isDone());
        assertSame(ctx.err(), value.err());
    }

    @Test
    void keysOfDifferentValueTypesLiveSideBySide() {
        Key<Integer> count = Key.of("count");
        Key<Duration> budget = Key.of("budget");

        Context ctx = Context.background().withValue(count, 3).withValue(budget, Duration.ofSeconds(2));

        int c = ctx.value(count);
        Duration b = ctx.value(budget);
        assertEquals(3, c);
        assertEquals(Duration.ofSeconds(2), b);
    }

    @Test
    void keyReportsItsName() {
        Key<String> key = Key.of("requestId");

        assertEquals("requestId", key.name());
        assertEquals("requestId", key.toString());
    }

    @Test
    void thousandsOfKeysAreAllFoundAndEveryParentIsUnchanged() {
        int n = 3000; // ids over more than 32 * 32 slots: the trie has at least three levels
        List<Key<Integer>> keys = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            keys.add(Key.of("k" + i));
        }
        List<Context> chain = new ArrayList<>(n + 1);
        Context ctx = Context.background();
        chain.add(ctx);

        for (int i = 0; i < n; i++) {
            ctx = ctx.withValue(keys.get(i), i);
            chain.add(ctx);
        }

        assertTrue(keys.get(n - 1).id - keys.get(0).id >= 32 * 32, "keys span more than two trie levels");
        for (int i = 0; i < n; i++) {
            assertEquals(i, chain.get(n).value(keys.get(i)), "leaf, key " + i);
        }
        for (int depth = 0; depth <= n; depth++) {
            Context c = chain.get(depth);
            // c holds exactly keys[0 .. depth): check its last key, the next one, and every key on sampled levels.
            if (depth > 0) {
                assertEquals(depth - 1, c.value(keys.get(depth - 1)), "depth " + depth);
            }
            if (depth < n) {
                assertNull(c.value(keys.get(depth)), "depth " + depth);
            }
            if (depth % 97 == 0) {
                for (int i = 0; i < n; i++) {
                    assertEquals(i < depth ? Integer.valueOf(i) : null, c.value(keys.get(i)),
                            "depth " + depth + ", key " + i);
                }
            }
        }
    }

    @Test
    void rebindingThousandsOfKeysLeavesTheOlderBindingsVisibleBelow() {
        int n = 2000;
        List<Key<Integer>> keys = new ArrayList<>(n);
        Context original = Context.background();
        for (int i = 0; i < n; i++) {
            Key<Integer> key = Key.of("k" + i);
            keys.add(key);
            original = original.withValue(key, i);
        }
        List<Context> rebound = new ArrayList<>(n);

        Context ctx = original;
        for (int i = n - 1; i >= 0; i--) { // rebind in reverse order, through cancellable layers now and then
            ctx = ctx.withValue(keys.get(i), -i);
            if (i % 250 == 0) {
                ctx = ctx.withCancel();
            }
            rebound.add(ctx);
        }

        for (int i = 0; i < n; i++) {
            assertEquals(-i, ctx.value(keys.get(i)), "fully rebound, key " + i);
            assertEquals(i, original.value(keys.get(i)), "original, key " + i);
        }
        for (int step = 0; step < n; step += 111) {
            Context c = rebound.get(step);
            int firstRebound = n - 1 - step;
            for (int i = 0; i < n; i++) {
                assertEquals(i >= firstRebound ? -i : i, c.value(keys.get(i)), "step " + step + ", key " + i);
            }
        }
    }

    @Test
    void keysWhoseIdsShareManyLowBitsAreKeptApart() {
        Key<String> a = Key.of("a");
        for (int i = 1; i < (1 << 15); i++) {
            Key.of("filler");
        }
        Key<String> b = Key.of("b"); // same low 15 bits as a (ids are consecutive and unique)
        Key<String> absent = Key.of("absent");
        if (((b.id - a.id) & ((1 << 15) - 1)) != 0) {
            throw new AssertionError("another test created keys concurrently; ids " + a.id + ", " + b.id);
        }

        Context ab = Context.background().withValue(a, "A").withValue(b, "B");
        Context ba = Context.background().withValue(b, "B").withValue(a, "A");
        Context rebound = ab.withValue(a, "A2");

        assertEquals("A", ab.value(a));
        assertEquals("B", ab.value(b));
        assertEquals("A", ba.value(a));
        assertEquals("B", ba.value(b));
        assertNull(ab.value(absent));
        assertEquals("A2", rebound.value(a));
        assertEquals("B", rebound.value(b));
        assertEquals("A", ab.value(a));
    }
}
