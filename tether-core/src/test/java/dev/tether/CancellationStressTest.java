package dev.tether;

import static dev.tether.ChildRace.Cancelled.GRANDPARENT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.tether.Stress.Threads;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Stress tests for the races of the cancellation tree, each on platform and on virtual threads, each within
 * {@link Stress#BUDGET_MILLIS} ({@code -Dtether.stress.millis}). The harness is shown to catch a planted race in
 * {@link PlantedRaceTest}.
 */
class CancellationStressTest {

    @AfterEach
    void currentIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
    }

    @ParameterizedTest
    @EnumSource
    void childCreatedWhileItsParentIsCancelled_isNeverMissed(Threads threads) {
        Stress.of("child created while its parent is cancelled", threads)
                .batch(64)
                .run(2, ChildRace.scenario(new RoundRobin(ChildRace.Cancelled.values(), false)))
                .assertPassed();
    }

    /**
     * The same race, checked for what the done contexts still hold afterwards: a separate test, so that a failure
     * of one kind cannot hide the other. Only with the grandparent cancelled: a context that is cancelled itself
     * always takes its children away in one swap, while one that is ended by its parent is where a late child can
     * slip in.
     */
    @ParameterizedTest
    @EnumSource
    void childCreatedWhileItsParentIsCancelled_isNotLeftRegisteredInTheDoneParent(Threads threads) {
        Stress.of("child created while its parent is cancelled: registrations", threads)
                .batch(64)
                .run(2, ChildRace.scenario(new RoundRobin(new ChildRace.Cancelled[] {GRANDPARENT}, true)))
                .assertPassed();
    }

    /** Cycles through every {@link ChildRace.Derived} × the given {@link ChildRace.Cancelled}, one per round. */
    private static final class RoundRobin implements java.util.function.Supplier<ChildRace> {
        private final ChildRace.Cancelled[] cancelled;
        private final boolean registrations;
        private int next;

        RoundRobin(ChildRace.Cancelled[] cancelled, boolean registrations) {
            this.cancelled = cancelled;
            this.registrations = registrations;
        }

        @Override
        public ChildRace get() {
            return ChildRace.OnTether.cycling(next++, cancelled, registrations);
        }
    }

    @ParameterizedTest
    @EnumSource
    void manyThreadsCancellingOneTree_endEveryNodeOnce_withItsOwnErrOrItsParents(Threads threads) {
        int cancellers = 3;

        Stress.Result result = Stress.of("many threads cancelling one tree", threads).batch(4).run(cancellers + 1, number -> {
            Tree tree = Tree.random(48);
            List<Runnable> actors = new ArrayList<>();
            for (int a = 0; a < cancellers; a++) {
                actors.add(tree.canceller(a));
            }
            actors.add(tree::deriveDuringTheStorm);
            return new Stress.Round("", actors, tree::verdict);
        });

        result.assertPassed();
    }

    /**
     * A random tree of cancellable contexts, some behind value contexts or with an hour's timeout, some with an
     * onDone action; then cancellers that each cancel a random half of the nodes with causes of their own, and a
     * deriver that adds children and listeners to random nodes meanwhile.
     */
    private static final class Tree {
        private static final Key<Integer> KEY = Key.of("node");

        final List<CancellableContext> nodes = new ArrayList<>();
        /** The index of each node's nearest cancellable ancestor; -1 for the root. */
        final int[] parent;
        final AtomicIntegerArray wins;
        final AtomicReferenceArray<@Nullable Throwable> winningCause;
        /** Runs of each node's onDone action; -1 for a node without one. */
        final AtomicIntegerArray actionRuns;
        /** Derived during the storm: children (with their parent's index) and listeners' run counts. */
        final List<CancellableContext> lateChildren = new ArrayList<>();
        final List<Integer> lateParents = new ArrayList<>();
        final List<AtomicInteger> lateListeners = new ArrayList<>();
        /** Nodes the deriver added to; written by the deriver, read by the check. */
        final boolean[] derivedFrom;

        private Tree(int size) {
            parent = new int[size];
            wins = new AtomicIntegerArray(size);
            winningCause = new AtomicReferenceArray<>(size);
            actionRuns = new AtomicIntegerArray(size);
            derivedFrom = new boolean[size];
        }

        static Tree random(int size) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            Tree tree = new Tree(size);
            tree.nodes.add(Context.background().withCancel());
            tree.parent[0] = -1;
            for (int i = 1; i < size; i++) {
                int p = random.nextInt(i);
                Context from = tree.nodes.get(p);
                CancellableContext node = switch (random.nextInt(4)) {
                    case 0 -> from.withValue(KEY, i).withCancel();
                    case 1 -> from.withTimeout(Duration.ofHours(1));
                    default -> from.withCancel();
                };
                tree.nodes.add(node);
                tree.parent[i] = p;
            }
            for (int i = 0; i < size; i++) {
                tree.actionRuns.set(i, -1);
                if (random.nextBoolean()) {
                    int index = i;
                    tree.actionRuns.set(i, 0);
                    tree.nodes.get(i).onDone(() -> tree.actionRuns.incrementAndGet(index), Runnable::run);
                }
            }
            return tree;
        }

        /** Actor {@code a}: cancels a random half of the nodes in random order; actor 0 includes the root. */
        Runnable canceller(int a) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            List<Integer> order = new ArrayList<>();
            for (int i = a == 0 ? 0 : 1; i < nodes.size(); i++) {
                if (i == 0 || random.nextBoolean()) {
                    order.add(i);
                }
            }
            Collections.shuffle(order, random);
            Throwable[] causes = new Throwable[order.size()];
            for (int k = 0; k < causes.length; k++) {
                causes[k] = new Stress.Cause("actor " + a + " cancels node " + order.get(k));
            }
            return () -> {
                for (int k = 0; k < causes.length; k++) {
                    int i = order.get(k);
                    if (nodes.get(i).cancel(causes[k])) {
                        wins.incrementAndGet(i);
                        winningCause.set(i, causes[k]);
                    }
                }
            };
        }

        void deriveDuringTheStorm() {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            for (int k = 0; k < nodes.size() / 2; k++) {
                int p = random.nextInt(nodes.size());
                derivedFrom[p] = true;
                if (random.nextBoolean()) {
                    lateChildren.add(nodes.get(p).withCancel());
                    lateParents.add(p);
                } else {
                    AtomicInteger runs = new AtomicInteger();
                    nodes.get(p).onDone(runs::incrementAndGet, Runnable::run);
                    lateListeners.add(runs);
                }
            }
        }

        @Nullable String verdict() {
            for (int i = 0; i < nodes.size(); i++) {
                CancellableContext node = nodes.get(i);
                String where = "node " + i + " (" + node + ", parent " + parent[i] + ")";
                if (!node.isDone()) {
                    return where + " is not done";
                }
                if (wins.get(i) > 1) {
                    return where + ": cancel() returned true " + wins.get(i) + " times";
                }
                ContextDoneException err = node.err();
                if (err != node.err()) {
                    return where + ": err() returned two instances";
                }
                if (wins.get(i) == 1) {
                    if (node.cause() != winningCause.get(i) || !(err instanceof ContextCancelledException)) {
                        return where + ": its own cancel won with cause " + winningCause.get(i) + " but it has err "
                                + err + " / cause " + node.cause();
                    }
                } else if (i == 0) {
                    return "nobody's cancel() of the root returned true";
                } else {
                    CancellableContext p = nodes.get(parent[i]);
                    if (err != p.err() || node.cause() != p.cause()) {
                        return where + " was not cancelled itself, yet its err/cause " + err + " / " + node.cause()
                                + " differ from its parent's " + p.err() + " / " + p.cause();
                    }
                }
                if (actionRuns.get(i) != -1 && actionRuns.get(i) != 1) {
                    return where + ": its onDone action ran " + actionRuns.get(i) + " times";
                }
                // Nodes the deriver added to are left to childCreatedWhileItsParentIsCancelled_isNotLeftRegistered…,
                // which fails on its own when a late child stays registered in a done parent.
                int left = ((CancelContext) node).childCount();
                if (left != 0 && !derivedFrom[i]) {
                    return "LEFT REGISTERED: done " + where + " still holds " + left + " child(ren)/listener(s)";
                }
            }
            for (int k = 0; k < lateChildren.size(); k++) {
                CancellableContext child = lateChildren.get(k);
                CancellableContext p = nodes.get(lateParents.get(k));
                if (!child.isDone() || child.err() != p.err() || child.cause() != p.cause()) {
                    return "MISSED CHILD: a child derived during the storm from node " + lateParents.get(k)
                            + " has isDone " + child.isDone() + ", err " + child.err() + ", cause " + child.cause()
                            + "; its parent has " + p.err() + " / " + p.cause();
                }
            }
            for (AtomicInteger runs : lateListeners) {
                if (runs.get() != 1) {
                    return "a listener registered during the storm ran " + runs.get() + " times";
                }
            }
            return null;
        }
    }

    @ParameterizedTest
    @EnumSource
    void cancelRacingErrReaders_allReadersSeeOneErrInstance(Threads threads) {
        int readers = 3;

        Stress.Result result = Stress.of("cancel vs err() readers", threads).batch(32).run(1 + readers, number -> {
            CancellableContext parent = Context.background().withCancel();
            CancellableContext child = parent.withValue(Key.of("k"), "v").withCancel();
            Context grandchild = child.withValue(Key.of("k2"), "v2");
            Context[] read = {parent, child, grandchild};
            Throwable cause = number % 2 == 0 ? new Stress.Cause("round " + number) : null; // no cause: err made lazily
            ContextDoneException[] errs = new ContextDoneException[readers];
            Throwable[] causes = new Throwable[readers];
            List<Runnable> actors = new ArrayList<>();
            actors.add(() -> parent.cancel(cause));
            for (int r = 0; r < readers; r++) {
                int index = r;
                Context c = read[r];
                actors.add(() -> {
                    Stress.spinUntil(() -> c.err() != null);
                    errs[index] = c.err();
                    causes[index] = c.cause();
                });
            }
            return new Stress.Round(cause == null ? "cancel()" : "cancel(cause)", actors, () -> {
                ContextDoneException err = parent.err();
                for (int r = 0; r < readers; r++) {
                    if (errs[r] != err || read[r].err() != err) {
                        return "reader " + r + " saw err " + errs[r] + "@" + System.identityHashCode(errs[r])
                                + ", now " + read[r].err() + "; the parent's is " + err + "@"
                                + System.identityHashCode(err);
                    }
                    Throwable expected = cause == null ? err : cause;
                    if (causes[r] != expected) {
                        return "reader " + r + " saw cause " + causes[r] + ", expected " + expected;
                    }
                }
                return null;
            });
        });

        result.assertPassed();
    }

    @ParameterizedTest
    @EnumSource
    void onDoneActionsThatCancelEachOther_onTheCancellersThread_doNotDeadlock(Threads threads) {
        Stress.Result result = Stress.of("onDone actions cancelling each other", threads)
                .hangMillis(5_000)
                .batch(32)
                .run(2, number -> new Cycle(ThreadLocalRandom.current()).round());

        result.assertPassed();
    }

    /**
     * Two trees whose direct-executor actions cancel each other (A's child cancels B, B's child cancels A, a child
     * cancels its own parent, a done() stage cancels the other tree, an action registers another action and
     * derives a child), cancelled from two threads at once at random nodes.
     */
    private static final class Cycle {
        final CancellableContext a = Context.background().withCancel();
        final CancellableContext b = Context.background().withCancel();
        final CancellableContext a1 = a.withCancel();
        final CancellableContext b1 = b.withValue(Key.of("k"), "v").withCancel();
        final AtomicInteger[] runs = new AtomicInteger[6];
        final List<CancellableContext> derived = new ArrayList<>();
        final CompletionStage<Void> stageA;
        final CancellableContext firstTarget;
        final CancellableContext secondTarget;

        Cycle(ThreadLocalRandom random) {
            for (int i = 0; i < runs.length; i++) {
                runs[i] = new AtomicInteger();
            }
            a1.onDone(() -> {
                runs[0].incrementAndGet();
                b.cancel(new Stress.Cause("A1's action"));
            }, Runnable::run);
            b1.onDone(() -> {
                runs[1].incrementAndGet();
                a.cancel(new Stress.Cause("B1's action"));
            }, Runnable::run);
            a1.onDone(() -> {
                runs[2].incrementAndGet();
                a.cancel(new Stress.Cause("A1 cancels its parent"));
            }, Runnable::run);
            b.onDone(() -> {
                runs[3].incrementAndGet();
                a1.onDone(runs[4]::incrementAndGet, Runnable::run); // registered from inside an action
                synchronized (derived) {
                    derived.add(a.withCancel());
                }
            }, Runnable::run);
            stageA = a.done();
            stageA.thenRun(() -> {
                runs[5].incrementAndGet();
                b1.cancel(new Stress.Cause("A's done() stage"));
            });
            firstTarget = random.nextBoolean() ? a : a1;
            secondTarget = random.nextBoolean() ? b : b1;
        }

        Stress.Round round() {
            return Stress.Round.of(
                    "cancel " + (firstTarget == a ? "A" : "A1") + " and " + (secondTarget == b ? "B" : "B1"),
                    this::verdict,
                    () -> firstTarget.cancel(new Stress.Cause("first actor")),
                    () -> secondTarget.cancel(new Stress.Cause("second actor")));
        }

        @Nullable String verdict() {
            for (CancellableContext c : List.of(a, b, a1, b1)) {
                if (!c.isDone() || ((CancelContext) c).childCount() != 0) {
                    return c + " isDone " + c.isDone() + ", holds " + ((CancelContext) c).childCount();
                }
            }
            for (int i = 0; i < runs.length; i++) {
                if (runs[i].get() != 1) {
                    return "action " + i + " ran " + runs[i].get() + " times";
                }
            }
            synchronized (derived) {
                for (CancellableContext c : derived) {
                    if (!c.isDone() || c.err() != a.err()) {
                        return "a child derived inside an action is " + c.err() + ", A is " + a.err();
                    }
                }
            }
            return null;
        }
    }

    @ParameterizedTest
    @EnumSource
    void registrationStopRacingCancel_exactlyOneWins(Threads threads) {
        AtomicInteger stoppedButRan = new AtomicInteger();
        AtomicInteger asyncStopped = new AtomicInteger();

        Stress.Result result = Stress.of("Registration.stop() vs cancel", threads).batch(32).run(2, number -> {
            boolean direct = (number & 1) == 0;
            boolean viaParent = (number & 2) == 0;
            boolean onView = (number & 4) == 0;
            CancellableContext top = Context.background().withCancel();
            CancellableContext ctx = viaParent ? top.withCancel() : top;
            Context target = onView ? ctx.withValue(Key.of("k"), "v") : ctx;
            AtomicInteger runs = new AtomicInteger();
            CountDownLatch ran = new CountDownLatch(1);
            AtomicBoolean stopped = new AtomicBoolean();
            Runnable action = () -> {
                if (stopped.get()) {
                    stoppedButRan.incrementAndGet();
                }
                runs.incrementAndGet();
                ran.countDown();
            };
            Registration registration = direct ? target.onDone(action, Runnable::run) : target.onDone(action);
            String label = (direct ? "direct" : "async") + (viaParent ? ", cancelled via its parent" : "")
                    + (onView ? ", registered on a value context" : "");
            return Stress.Round.of(label, () -> {
                if (!ctx.isDone() || ((CancelContext) ctx).childCount() != 0) {
                    return "the context is not done or still holds " + ((CancelContext) ctx).childCount();
                }
                if (stopped.get()) {
                    if (!direct) {
                        asyncStopped.incrementAndGet();
                    }
                    return runs.get() == 0 ? null : "stop() returned true, yet the action ran " + runs.get();
                }
                if (!direct && !awaitQuietly(ran)) {
                    return "stop() returned false, yet the async action did not run within 5 s";
                }
                return runs.get() == 1 ? null : "stop() returned false, yet the action ran " + runs.get() + " times";
            }, top::cancel, () -> stopped.set(registration.stop()));
        });

        result.assertPassed();
        // A stopped async action that still ran would do so on a virtual thread after its round was checked.
        sleepQuietly(50);
        assertEquals(0, stoppedButRan.get(), "async actions that ran although stop() returned true (of "
                + asyncStopped.get() + " stopped)");
    }

    @ParameterizedTest
    @EnumSource
    void childrenCreatedAndCancelledByTwoThreads_onOneLongLivedParent_leaveNothingRegistered(Threads threads) {
        CancellableContext longLived = Context.background().withCancel();

        Stress.Result result = Stress.of("children churning on one parent", threads).batch(8).run(2, number -> {
            // Every other round a fresh parent, so that the null -> one child -> map transitions race too.
            CancellableContext parent = number % 2 == 0 ? longLived : Context.background().withCancel();
            Queue<Object> handedOver = new ConcurrentLinkedQueue<>();
            AtomicInteger ranWithoutCancel = new AtomicInteger();
            AtomicInteger stopFailures = new AtomicInteger();
            AtomicInteger actorsDone = new AtomicInteger();
            Runnable churn = () -> {
                churn(parent, handedOver, ranWithoutCancel, stopFailures);
                if (actorsDone.incrementAndGet() == 2) {
                    // The other actor hands nothing over any more: end what it left, so that every round ends
                    // with everything ended (later rounds of a batch run on the same long-lived parent).
                    for (Object o; (o = handedOver.poll()) != null; ) {
                        end(o, stopFailures);
                    }
                }
            };
            return Stress.Round.of(number % 2 == 0 ? "long-lived parent" : "fresh parent", () -> {
                int left = ((CancelContext) parent).childCount();
                if (parent.isDone() || left != 0 || ranWithoutCancel.get() != 0 || stopFailures.get() != 0) {
                    return "LEFT REGISTERED or wrong: the live parent holds " + left + " after every child was"
                            + " cancelled and every listener stopped; parent done " + parent.isDone() + ", actions"
                            + " run " + ranWithoutCancel.get() + ", stop() false " + stopFailures.get();
                }
                return null;
            }, churn, churn);
        });

        result.assertPassed();
        assertEquals(0, ((CancelContext) longLived).childCount());
    }

    /** One actor's churn: derive, keep a few, hand some to the other actor, end the rest in random order. */
    private static void churn(
            CancellableContext parent, Queue<Object> handedOver, AtomicInteger ran, AtomicInteger stopFailures) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        ArrayDeque<Object> mine = new ArrayDeque<>();
        for (int k = 0; k < 24; k++) {
            Object made = switch (random.nextInt(5)) {
                case 0 -> parent.withValue(Key.of("k"), "v").withCancel();
                case 1 -> {
                    CancellableContext c = parent.withTimeout(Duration.ofHours(1));
                    if (random.nextInt(4) == 0) {
                        c.done(); // arms a timer on the system clock, which the cancel must take back
                    }
                    yield c;
                }
                case 2 -> parent.onDone(ran::incrementAndGet, Runnable::run);
                default -> parent.withCancel();
            };
            if (random.nextInt(3) == 0) {
                handedOver.add(made);
            } else {
                mine.add(made);
            }
            if (random.nextBoolean() && !mine.isEmpty()) {
                end(random.nextBoolean() ? mine.pollFirst() : mine.pollLast(), stopFailures);
            }
            if (random.nextInt(3) == 0) {
                Object theirs = handedOver.poll();
                if (theirs != null) {
                    end(theirs, stopFailures);
                }
            }
        }
        for (Object o; (o = mine.poll()) != null; ) {
            end(o, stopFailures);
        }
    }

    private static void end(Object derived, AtomicInteger stopFailures) {
        if (derived instanceof CancellableContext c) {
            c.cancel();
        } else if (!((Registration) derived).stop()) {
            stopFailures.incrementAndGet();
        }
    }

    @ParameterizedTest
    @EnumSource
    void timerArmedWhileTheContextIsCancelled_isTakenBack(Threads threads) {
        ManualTimeSource time = ManualTimeSource.create();
        Context root = Context.root(time);

        Stress.Result result = Stress.of("timer armed during cancel", threads).batch(32).run(3, number -> {
            CancellableContext ctx = root.withTimeout(Duration.ofHours(1));
            Context below = ctx.withValue(Key.of("k"), "v").withCancel();
            AtomicInteger runs = new AtomicInteger();
            AtomicReference<CompletionStage<Void>> stage = new AtomicReference<>();
            return Stress.Round.of(() -> {
                int pending = time.pendingTimers();
                if (pending != 0) {
                    return "the cancelled context left " + pending + " scheduled timer(s) behind";
                }
                CompletableFuture<Void> f = stage.get().toCompletableFuture();
                if (!ctx.isDone() || !f.isDone() || runs.get() != 1) {
                    return "after the cancel: done " + ctx.isDone() + ", done() stage " + f + ", action ran "
                            + runs.get() + " times";
                }
                return null;
            }, ctx::cancel, () -> stage.set(ctx.done()), () -> below.onDone(runs::incrementAndGet, Runnable::run));
        });

        result.assertPassed();
        assertEquals(0, time.pendingTimers());
    }

    private static boolean awaitQuietly(CountDownLatch latch) {
        try {
            return latch.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
