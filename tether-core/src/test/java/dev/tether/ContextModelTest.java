package dev.tether;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Random trees of withCancel / withTimeout / withValue / withoutCancel, cancels, onDone registrations and clock
 * advances, checked after every step against a small model of Go's rules: each context ends through the
 * earliest of its own cancel, its own deadline and its parent's end, and then has exactly that event's err and
 * cause; each onDone action runs exactly once, when (and only when) its context is done.
 */
class ContextModelTest {

    private static final Key<Integer> ID = Key.of("id");

    /** One context of the tree and what the model says about it. */
    private static final class Node {
        final Context context;
        final Node parent; // null for the root
        final boolean withoutCancel;
        /** Nearest cancellable ancestor or self, as the model sees it; null below a root or withoutCancel. */
        final Node source;
        final long ownDeadline; // absolute ms, or Long.MAX_VALUE
        final long createdTime;
        final long createdSeq;
        final AtomicInteger fired = new AtomicInteger();
        int listeners;
        /** The model's end: time, then sequence (a deadline sorts before operations at the same time). */
        long endTime = Long.MAX_VALUE;
        long endSeq = Long.MAX_VALUE;
        Node endedBy; // the node whose own event ended it: itself or an ancestor
        String endReason; // "cancel" or "deadline"
        Throwable cancelCause;

        Node(Context context, Node parent, long ownDeadline, long createdTime, long createdSeq) {
            this.context = context;
            this.parent = parent;
            this.withoutCancel = parent != null && !(context instanceof CancellableContext)
                    && context.toString().endsWith("WithoutCancel");
            this.source = context instanceof CancellableContext ? this
                    : parent == null || withoutCancel ? null : parent.source;
            this.ownDeadline = ownDeadline;
            this.createdTime = createdTime;
            this.createdSeq = createdSeq;
        }

        boolean cancellable() {
            return context instanceof CancellableContext;
        }

        /** The earliest deadline on the path, up to a withoutCancel boundary. */
        long effectiveDeadline() {
            long d = Long.MAX_VALUE;
            for (Node c = this; c != null && !c.withoutCancel; c = c.parent) {
                d = Math.min(d, c.ownDeadline);
            }
            return d;
        }
    }

    private long now; // ms since the root was made
    private long seq;

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void randomTreesFollowGoRules(long seed) {
        for (int tree = 0; tree < 150; tree++) {
            runTree(new Random(seed * 1_000 + tree));
        }
    }

    private void runTree(Random random) {
        ManualTimeSource time = ManualTimeSource.create();
        now = 0;
        seq = 0;
        List<Node> nodes = new ArrayList<>();
        nodes.add(new Node(Context.root(time), null, Long.MAX_VALUE, 0, 0));

        for (int step = 0; step < 40; step++) {
            Node target = nodes.get(random.nextInt(nodes.size()));
            switch (random.nextInt(10)) {
                case 0, 1, 2 -> nodes.add(derive(target, random, nodes.size()));
                case 3, 4 -> cancel(target, random);
                case 5 -> listen(target, random);
                case 6, 7 -> {
                    long by = random.nextInt(4) == 0 ? 0 : 1 + random.nextInt(60);
                    now += by;
                    time.advance(Duration.ofMillis(by));
                }
                default -> { } // only check
            }
            settle(nodes);
            // Looking at a context can end it (a passed deadline), so look at a few at a time: the rest stay
            // unobserved, as in a real program, and must still end the way the model says.
            check(nodes, random, 0.25);
        }
        check(nodes, random, 1.0);
        for (Node n : nodes) {
            if (n.context instanceof CancellableContext c) {
                c.cancel();
            }
        }
        assertEquals(0, time.pendingTimers(), "every timer is released once its context is cancelled");
    }

    private Node derive(Node parent, Random random, int id) {
        Context p = parent.context;
        seq++;
        return switch (random.nextInt(5)) {
            case 0 -> new Node(p.withCancel(), parent, Long.MAX_VALUE, now, seq);
            case 1, 2 -> {
                long timeout = random.nextInt(8) == 0 ? -random.nextInt(5) : random.nextInt(120);
                yield new Node(p.withTimeout(Duration.ofMillis(timeout)), parent, now + timeout, now, seq);
            }
            case 3 -> new Node(p.withValue(ID, id), parent, Long.MAX_VALUE, now, seq);
            default -> new Node(p.withoutCancel(), parent, Long.MAX_VALUE, now, seq);
        };
    }

    private void cancel(Node target, Random random) {
        if (!(target.context instanceof CancellableContext c)) {
            return;
        }
        seq++;
        Throwable cause = random.nextBoolean() ? new IllegalStateException("cause " + seq) : null;
        boolean modelLive = target.endedBy == null;

        boolean cancelled = c.cancel(cause);

        assertEquals(modelLive, cancelled, () -> "cancel() result for " + target.context);
        if (cancelled) {
            target.endTime = now;
            target.endSeq = seq;
            target.endedBy = target;
            target.endReason = "cancel";
            target.cancelCause = cause;
        }
    }

    private void listen(Node target, Random random) {
        target.listeners++;
        Registration r = target.context.onDone(target.fired::incrementAndGet, Runnable::run);
        if (random.nextInt(4) == 0 && r.stop()) {
            target.listeners--;
        }
    }

    /** Works out, for every context not yet ended in the model, whether it has ended by now, and how. */
    private void settle(List<Node> nodes) {
        // Nodes are listed parent first, so one pass sees each parent settled before its children.
        for (Node n : nodes) {
            if (n.endedBy != null || !n.cancellable()) {
                continue;
            }
            Node p = n.parent.source;
            boolean parentEnded = p != null && p.endedBy != null;
            // The context owns its deadline only if it is earlier than the parent's; else it inherits it.
            boolean ownsDeadline = n.ownDeadline < (p == null ? Long.MAX_VALUE : p.effectiveDeadline());
            // A deadline that had passed when the context was made takes effect at its creation.
            long deadlineTime = Math.max(n.ownDeadline, n.createdTime);
            long deadlineSeq = n.ownDeadline <= n.createdTime ? n.createdSeq : Long.MIN_VALUE;
            boolean ownDeadlinePassed = ownsDeadline && n.ownDeadline <= now;
            boolean deadlineFirst = ownDeadlinePassed && (!parentEnded || deadlineTime < p.endTime
                    || (deadlineTime == p.endTime && deadlineSeq < p.endSeq));
            if (deadlineFirst) {
                n.endTime = deadlineTime;
                n.endSeq = deadlineSeq;
                n.endedBy = n;
                n.endReason = "deadline";
            } else if (parentEnded) {
                n.endTime = p.endTime;
                n.endSeq = p.endSeq;
                n.endedBy = p.endedBy;
                n.endReason = p.endReason;
            } else if (n.effectiveDeadline() <= now) {
                fail("model: an inherited deadline passed but the parent has not ended: " + n.context);
            }
        }
    }

    /** Listeners on {@code n} and on the value contexts whose source it is, still pending. */
    private static int pendingListeners(Node n, List<Node> nodes) {
        int count = n.listeners;
        for (Node m : nodes) {
            if (m.source == n && m != n) {
                count += m.listeners;
            }
        }
        return count;
    }

    /** Children that may have registered with {@code n} and have not ended, plus listeners on it still pending. */
    private static int liveRegistrations(Node n, List<Node> nodes) {
        int count = 0;
        for (Node m : nodes) {
            if (m.source == n && m != n) {
                count += m.listeners; // listeners on value contexts register with their source
            }
            if (m.cancellable() && m != n && m.parent.source == n && m.endedBy == null) {
                count++;
            }
        }
        return count + n.listeners;
    }

    private void check(List<Node> nodes, Random random, double share) {
        for (Node n : nodes) {
            if (random.nextDouble() >= share) {
                continue;
            }
            Node s = n.source;
            boolean done = s != null && s.endedBy != null;
            Context c = n.context;

            assertEquals(done, c.isDone(), () -> "isDone of " + c + " at " + now + " ms");
            if (!done) {
                assertNull(c.err());
                assertNull(c.cause());
            } else {
                Node origin = s.endedBy;
                ContextDoneException err = c.err();
                if (s.endReason.equals("deadline")) {
                    assertInstanceOf(DeadlineExceededException.class, err, () -> "err of " + c);
                    assertSame(err, c.cause());
                } else {
                    assertInstanceOf(ContextCancelledException.class, err, () -> "err of " + c);
                    Throwable expected = origin.cancelCause == null ? err : origin.cancelCause;
                    assertSame(expected, c.cause(), () -> "cause of " + c);
                }
                assertSame(origin.context.err(), err, () -> c + " shares the err of " + origin.context);
                if (s.context instanceof CancelContext cc) {
                    assertEquals(0, cc.childCount(), () -> "a done context keeps no children: " + c);
                }
            }
            assertEquals(done ? n.listeners : 0, n.fired.get(), () -> "onDone runs of " + c);
            if (n.context instanceof CancelContext cc && !done) {
                int live = liveRegistrations(n, nodes);
                // A child whose own deadline passed unobserved stays registered until someone looks at it.
                int expiredUnobserved = (int) nodes.stream().filter(m -> m.cancellable() && m != n
                        && m.parent.source == n && m.endedBy == m && m.endReason.equals("deadline")).count();
                int held = cc.childCount();
                int listeners = pendingListeners(n, nodes);
                // Plain children link only once they need to, so the live ones are an upper bound; pending
                // listeners always register.
                assertTrue(held >= listeners && held <= live + expiredUnobserved, () -> "a live context holds its "
                        + "pending listeners (" + listeners + ") and at most its live children and listeners ("
                        + live + "): " + held + " in " + c);
            }
            boolean hasDeadline = s != null && s.effectiveDeadline() != Long.MAX_VALUE;
            assertTrue(c.deadline().isPresent() == hasDeadline, () -> "deadline presence of " + c);
        }
    }
}
