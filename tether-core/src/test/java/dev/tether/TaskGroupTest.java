package dev.tether;

import static org.junit.jupiter.api.Assertions.*;

import dev.tether.TaskGroup.Fork;
import dev.tether.TaskGroup.Policy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
@SuppressWarnings("try") // scopes and groups opened for their effect, closed explicitly to test close
class TaskGroupTest {

    private final ManualTimeSource time = ManualTimeSource.create();
    private final Context root = Context.root(time);

    @AfterEach
    void currentContextIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
    }

    /** Blocks in a plain JDK call that only an interrupt ends: the group's cancellation must reach it. */
    private static String blockForever(CountDownLatch blocked) throws InterruptedException {
        blocked.countDown();
        new LinkedBlockingQueue<String>().take();
        throw new AssertionError("unreachable");
    }

    @Test
    void forksRunWithTheGroupsContextBound_andJoinReturnsWhenAllSucceed() throws Exception {
        Key<String> user = Key.of("user");
        try (CancellableContext request = root.withValue(user, "alice").withCancel();
                TaskGroup group = TaskGroup.open(request)) {
            Fork<String> a = group.fork(() -> Context.current().value(user));
            Fork<Context> b = group.fork(Context::current);
            Fork<Boolean> c = group.fork(() -> Thread.currentThread().isVirtual());

            group.join();

            assertEquals("alice", a.get());
            assertSame(group.context(), b.get());
            assertFalse(b.get() instanceof CancellableContext, "forks cannot cancel the group's context");
            assertTrue(c.get());
            assertEquals(Fork.State.SUCCEEDED, a.state());
            assertNull(a.exception());
            assertFalse(group.context().isDone());
        }
    }

    @Test
    void groupContextIsAChildOfTheParent_andCloseCancelsIt() {
        try (CancellableContext parent = root.withCancel()) {
            TaskGroup group = TaskGroup.open(parent);
            Context ctx = group.context();

            group.close();

            assertInstanceOf(ContextCancelledException.class, ctx.err());
            assertFalse(parent.isDone());
        }
    }

    @Test
    void failFast_firstFailureCancelsTheOthers_withThatFailureAsCause() throws Exception {
        IllegalStateException boom = new IllegalStateException("inventory down");
        CountDownLatch blocked = new CountDownLatch(1);
        try (TaskGroup group = TaskGroup.open(root)) {
            Fork<String> slow = group.fork(() -> blockForever(blocked));
            blocked.await();
            Fork<String> failing = group.fork(() -> {
                throw boom;
            });

            ExecutionException e = assertThrows(ExecutionException.class, group::join);

            assertSame(boom, e.getCause());
            assertEquals(0, boom.getSuppressed().length, "the interrupted fork is cancelled, not a failure");
            assertSame(boom, group.context().cause());
            assertInstanceOf(ContextCancelledException.class, group.context().err());
            assertEquals(Fork.State.FAILED, failing.state());
            assertSame(boom, failing.exception());
            assertEquals(Fork.State.CANCELLED, slow.state());
            assertNull(slow.exception());
            IllegalStateException notSucceeded = assertThrows(IllegalStateException.class, failing::get);
            assertSame(boom, notSucceeded.getCause());
        }
    }

    @Test
    void failFastRace_twoForksFailingAtOnce_givesOnePrimaryAndOneSuppressed_everyTime() throws Exception {
        int rounds = 300;
        int firstWasA = 0;
        for (int i = 0; i < rounds; i++) {
            RuntimeException a = new RuntimeException("a");
            RuntimeException b = new RuntimeException("b");
            CyclicBarrier together = new CyclicBarrier(2);
            CountDownLatch blocked = new CountDownLatch(1);
            ExecutionException thrown;
            Fork<Object> forkA;
            Fork<Object> forkB;
            Fork<String> bystander;
            Context groupContext;
            try (TaskGroup group = TaskGroup.open(Context.background())) {
                bystander = group.fork(() -> blockForever(blocked));
                forkA = group.fork(() -> {
                    together.await();
                    jitter();
                    throw a;
                });
                forkB = group.fork(() -> {
                    together.await();
                    jitter();
                    throw b;
                });
                groupContext = group.context();
                thrown = assertThrows(ExecutionException.class, group::join);
            }

            Throwable primary = thrown.getCause();
            Throwable other = primary == a ? b : a;
            assertTrue(primary == a || primary == b, "primary is one of the two: " + primary);
            assertArrayEquals(new Throwable[] {other}, primary.getSuppressed(), "round " + i);
            assertEquals(0, other.getSuppressed().length);
            assertEquals(0, thrown.getSuppressed().length);
            assertSame(primary, groupContext.cause());
            assertEquals(Fork.State.FAILED, forkA.state());
            assertEquals(Fork.State.FAILED, forkB.state());
            assertSame(a, forkA.exception());
            assertSame(b, forkB.exception());
            assertEquals(Fork.State.CANCELLED, bystander.state());
            firstWasA += primary == a ? 1 : 0;
        }
        System.out.println("fail-fast race: a was primary in " + firstWasA + " of " + rounds + " rounds");
    }

    /** A few hundred nanoseconds or none, so that either fork of a race may come first. */
    private static void jitter() {
        for (int i = java.util.concurrent.ThreadLocalRandom.current().nextInt(300); i > 0; i--) {
            Thread.onSpinWait();
        }
    }

    @Test
    void joinCalledTwice_doesNotSuppressTheSameFailureTwice() throws Exception {
        RuntimeException a = new RuntimeException("a");
        RuntimeException b = new RuntimeException("b");
        try (TaskGroup group = TaskGroup.open(root, Policy.COLLECT_ALL)) {
            group.fork(() -> {
                throw a;
            });
            assertThrows(ExecutionException.class, group::join);
            group.fork(() -> {
                throw b;
            });
            ExecutionException second = assertThrows(ExecutionException.class, group::join);
            ExecutionException third = assertThrows(ExecutionException.class, group::join);
            assertSame(a, second.getCause());
            assertSame(a, third.getCause());
            assertArrayEquals(new Throwable[] {b}, a.getSuppressed());
        }
    }

    @Test
    void collectAll_runsEveryForkToItsEnd_andReportsFailuresInOrder() throws Exception {
        RuntimeException first = new RuntimeException("first");
        RuntimeException second = new RuntimeException("second");
        CountDownLatch firstFailed = new CountDownLatch(1);
        CountDownLatch secondFailed = new CountDownLatch(1);
        try (TaskGroup group = TaskGroup.open(root, Policy.COLLECT_ALL)) {
            group.fork(() -> {
                try {
                    throw first;
                } finally {
                    firstFailed.countDown();
                }
            });
            Fork<Object> two = group.fork(() -> {
                firstFailed.await();
                Thread.sleep(1); // let the first fork's failure be recorded before this one's
                try {
                    throw second;
                } finally {
                    secondFailed.countDown();
                }
            });
            Fork<String> survivor = group.fork(() -> {
                secondFailed.await(); // would be interrupted if a failure cancelled the group
                return "done";
            });

            ExecutionException e = assertThrows(ExecutionException.class, group::join);

            assertSame(first, e.getCause());
            assertArrayEquals(new Throwable[] {second}, first.getSuppressed());
            assertEquals("done", survivor.get());
            assertEquals(Fork.State.FAILED, two.state());
            assertFalse(group.context().isDone());
        }
    }

    @Test
    void firstSuccess_winnerCancelsTheOthers_andIsTheResult() throws Exception {
        CountDownLatch blocked = new CountDownLatch(2);
        try (TaskGroup group = TaskGroup.open(root, Policy.FIRST_SUCCESS)) {
            Fork<String> slow1 = group.fork(() -> blockForever(blocked));
            Fork<String> slow2 = group.fork(() -> blockForever(blocked));
            blocked.await();
            Fork<String> fast = group.fork(() -> "fast");

            group.join();

            String result = group.result();
            assertEquals("fast", result);
            assertEquals("fast", fast.get());
            assertEquals(Fork.State.CANCELLED, slow1.state());
            assertEquals(Fork.State.CANCELLED, slow2.state());
            assertInstanceOf(ContextCancelledException.class, group.context().err());
        }
    }

    @Test
    void firstSuccess_whenAllFail_throwsTheFirstWithTheOthersSuppressed() throws Exception {
        RuntimeException a = new RuntimeException("a");
        RuntimeException b = new RuntimeException("b");
        CountDownLatch aFailed = new CountDownLatch(1);
        try (TaskGroup group = TaskGroup.open(root, Policy.FIRST_SUCCESS)) {
            group.fork(() -> {
                try {
                    throw a;
                } finally {
                    aFailed.countDown();
                }
            });
            group.fork(() -> {
                aFailed.await();
                Thread.sleep(1); // let a's failure be recorded first
                throw b;
            });

            ExecutionException e = assertThrows(ExecutionException.class, group::join);

            assertSame(a, e.getCause());
            assertArrayEquals(new Throwable[] {b}, a.getSuppressed());
            assertThrows(IllegalStateException.class, group::result);
        }
    }

    @Test
    void resultIsOnlyForFirstSuccess() {
        try (TaskGroup group = TaskGroup.open(root)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, group::result);
            assertTrue(e.getMessage().contains("FIRST_SUCCESS"), e.getMessage());
        }
    }

    @Test
    void deadlineExpiry_interruptsForksBlockedInPlainJdkCalls_withoutAnyonePolling() throws Exception {
        CountDownLatch blocked = new CountDownLatch(3);
        List<Throwable> seen = new ArrayList<>();
        try (CancellableContext request = root.withTimeout(Duration.ofMillis(300));
                TaskGroup group = TaskGroup.open(request, Policy.COLLECT_ALL)) {
            Fork<String> take = group.fork(() -> blockForever(blocked));
            Fork<String> sleep = group.fork(() -> {
                blocked.countDown();
                Thread.sleep(TimeUnit.DAYS.toMillis(1));
                return "overslept";
            });
            Fork<String> future = group.fork(() -> {
                blocked.countDown();
                try {
                    return new CompletableFuture<String>().get();
                } catch (InterruptedException e) {
                    synchronized (seen) {
                        seen.add(e);
                    }
                    throw e;
                }
            });
            blocked.await();
            assertEquals(1, time.pendingTimers(), "the group waits on the deadline with one timer, no polling");

            time.advance(Duration.ofMillis(300)); // runs the timer: the context ends, the forks are interrupted

            DeadlineExceededException e = assertThrows(DeadlineExceededException.class, group::join);
            assertSame(request.err(), e);
            assertSame(request.err(), group.context().err());
            group.close();
            assertEquals(Fork.State.CANCELLED, take.state());
            assertEquals(Fork.State.CANCELLED, sleep.state());
            assertEquals(Fork.State.CANCELLED, future.state());
            assertEquals(1, seen.size());
        }
    }

    @Test
    void deadlineExpiry_wakesAJoinThatIsAlreadyWaiting() throws Exception {
        CountDownLatch blocked = new CountDownLatch(1);
        Thread owner = Thread.currentThread();
        try (CancellableContext request = root.withTimeout(Duration.ofSeconds(1));
                TaskGroup group = TaskGroup.open(request)) {
            group.fork(() -> blockForever(blocked));
            blocked.await();
            Thread advancer = Thread.ofVirtual().start(() -> {
                Threads.awaitBlocked(owner);
                time.advance(Duration.ofSeconds(1));
            });

            assertThrows(DeadlineExceededException.class, group::join);
            advancer.join();
        }
    }

    @Test
    void joinThrowsTheContextsErr_evenWhenAForkIgnoresItsInterrupt_andCloseWaitsForThatFork() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch letGo = new CountDownLatch(1);
        AtomicBoolean finished = new AtomicBoolean();
        CancellableContext request = root.withCancel();
        TaskGroup group = TaskGroup.open(request);
        Fork<String> stubborn = group.fork(() -> {
            started.countDown();
            while (true) {
                try {
                    letGo.await();
                    break;
                } catch (InterruptedException swallowed) {
                    // bad code: carries on
                }
            }
            finished.set(true);
            return "late";
        });
        started.await();
        RuntimeException why = new RuntimeException("caller hung up");
        request.cancel(why);

        ContextCancelledException e = assertThrows(ContextCancelledException.class, group::join);

        assertSame(why, e.getCause());
        String diagnostics = stubborn.toString();
        assertTrue(diagnostics.contains("interrupted") && diagnostics.contains("still running"), diagnostics);
        Thread owner = Thread.currentThread();
        Thread releaser = Thread.ofVirtual().start(() -> {
            Threads.awaitBlocked(owner); // the owner is in close(), waiting for the stubborn fork
            letGo.countDown();
        });
        group.close();
        assertTrue(finished.get(), "close returned before the fork ended");
        releaser.join();
    }

    @Test
    void forkAfterClose_isRejectedClearly() {
        TaskGroup group = TaskGroup.open(root);
        group.close();

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> group.fork(() -> "x"));

        assertTrue(e.getMessage().contains("after close"), e.getMessage());
        assertThrows(IllegalStateException.class, group::join);
        group.close(); // idempotent
    }

    @Test
    void forkJoinAndCloseFromAForeignThread_areRejectedClearly() throws Exception {
        try (TaskGroup group = TaskGroup.open(root)) {
            Threads.Outcome fork = new Threads.Worker(Threads.Kind.VIRTUAL, () -> group.fork(() -> "x")).await();
            Threads.Outcome join = new Threads.Worker(Threads.Kind.PLATFORM, () -> {
                group.join();
                return null;
            }).await();
            Threads.Outcome close = new Threads.Worker(Threads.Kind.PLATFORM, () -> {
                group.close();
                return null;
            }).await();

            assertInstanceOf(IllegalStateException.class, fork.thrown());
            assertTrue(fork.thrown().getMessage().contains("neither the owner"), fork.thrown().getMessage());
            assertInstanceOf(IllegalStateException.class, join.thrown());
            assertInstanceOf(IllegalStateException.class, close.thrown());
        }
    }

    @Test
    void forksMayFork_andJoinWaitsForThoseToo_butMayNotJoinOrClose() throws Exception {
        try (TaskGroup group = TaskGroup.open(root)) {
            Fork<Fork<String>> outer = group.fork(() -> group.fork(() -> "inner"));
            Fork<Throwable> closer = group.fork(() -> {
                try {
                    group.close();
                    return null;
                } catch (IllegalStateException expected) {
                    return expected;
                }
            });

            group.join();

            assertEquals("inner", outer.get().get());
            assertInstanceOf(IllegalStateException.class, closer.get());
        }
    }

    @Test
    void forksOfAnEnclosingGroup_mayForkIntoIt_fromANestedGroupsFork() throws Exception {
        try (TaskGroup outer = TaskGroup.open(root)) {
            Fork<Fork<String>> viaNested = outer.fork(() -> {
                try (TaskGroup inner = TaskGroup.open(Context.current())) {
                    Fork<Fork<String>> f = inner.fork(() -> outer.fork(() -> "from a nested fork"));
                    inner.join();
                    return f.get();
                }
            });

            outer.join(); // waits for the fork that the inner group's fork made in outer, too

            assertEquals("from a nested fork", viaNested.get().get());
        }
    }

    @Test
    void forkOnAContextThatIsAlreadyDone_isCancelledAndNeverRuns_andJoinThrowsItsErr() throws Exception {
        CancellableContext parent = root.withCancel();
        RuntimeException why = new RuntimeException("gone");
        parent.cancel(why);
        AtomicBoolean ran = new AtomicBoolean();
        try (TaskGroup group = TaskGroup.open(parent)) {
            Fork<Boolean> fork = group.fork(() -> ran.getAndSet(true));

            ContextCancelledException e = assertThrows(ContextCancelledException.class, group::join);

            assertSame(parent.err(), e);
            assertSame(why, e.getCause());
            assertEquals(Fork.State.CANCELLED, fork.state());
        }
        assertFalse(ran.get());
    }

    @Test
    void aFailureThatIsASharedContextErr_isNeverMutated_theOthersGoOnTheExecutionException() throws Exception {
        CancellableContext elsewhere = Context.background().withCancel();
        elsewhere.cancel(new RuntimeException("other request"));
        ContextDoneException shared = elsewhere.err();
        RuntimeException later = new RuntimeException("later");
        CountDownLatch firstFailed = new CountDownLatch(1);
        try (TaskGroup group = TaskGroup.open(root, Policy.COLLECT_ALL)) {
            group.fork(() -> {
                try {
                    elsewhere.throwIfDone(); // e.g. a wait on another context
                    return null;
                } finally {
                    firstFailed.countDown();
                }
            });
            group.fork(() -> {
                firstFailed.await();
                Thread.sleep(1);
                throw later;
            });

            ExecutionException e = assertThrows(ExecutionException.class, group::join);

            assertSame(shared, e.getCause());
            assertEquals(0, shared.getSuppressed().length, "a shared err must not change");
            assertArrayEquals(new Throwable[] {later}, e.getSuppressed());
        }
    }

    @Test
    void platformThreadFactory_isUsed_andTheGroupStillCancels() throws Exception {
        CountDownLatch blocked = new CountDownLatch(1);
        try (TaskGroup group = TaskGroup.open(root, Policy.FAIL_FAST,
                Thread.ofPlatform().name("backend-", 0).factory())) {
            Fork<String> name = group.fork(() -> Thread.currentThread().getName());
            Fork<String> stuck = group.fork(() -> blockForever(blocked));
            blocked.await();
            group.fork(() -> {
                throw new RuntimeException("fail");
            });

            assertThrows(ExecutionException.class, group::join);

            assertTrue(name.get().startsWith("backend-"));
            assertEquals(Fork.State.CANCELLED, stuck.state());
        }
    }

    @Test
    void threadFactoryThatMakesNoThread_isRejected_andTheGroupStaysUsable() throws Exception {
        try (TaskGroup group = TaskGroup.open(root, Policy.FAIL_FAST, r -> null)) {
            assertThrows(java.util.concurrent.RejectedExecutionException.class, () -> group.fork(() -> "x"));
            group.join();
        }
    }

    @Test
    void onAPool_theGroupsInterruptIsClearedBeforeThePoolsNextTask() throws Exception {
        try (Threads.NaivePool pool = new Threads.NaivePool()) {
            CountDownLatch blocked = new CountDownLatch(1);
            CancellableContext parent = root.withCancel();
            try (TaskGroup group = TaskGroup.openOnExecutor(parent, Policy.FAIL_FAST, pool)) {
                Fork<String> fork = group.fork(() -> blockForever(blocked));
                Fork<String> queued = group.fork(() -> "never runs: the pool has one busy thread");
                blocked.await();

                parent.cancel();

                assertThrows(ContextCancelledException.class, group::join);
                group.close();
                assertEquals(Fork.State.CANCELLED, fork.state());
                assertEquals(Fork.State.CANCELLED, queued.state());
            }
            CompletableFuture<Boolean> next = new CompletableFuture<>();
            pool.execute(() -> next.complete(Thread.currentThread().isInterrupted()));
            assertFalse(next.get(10, TimeUnit.SECONDS), "interrupt leaked into the pool's next task");
            assertEquals(0, pool.leaks.get());
        }
    }

    @Test
    void closeWithoutJoin_cancelsAndWaits() throws Exception {
        CountDownLatch blocked = new CountDownLatch(2);
        Set<Fork<String>> forks;
        try (TaskGroup group = TaskGroup.open(root)) {
            forks = Set.of(group.fork(() -> blockForever(blocked)), group.fork(() -> blockForever(blocked)));
            blocked.await();
        }
        for (Fork<String> fork : forks) {
            assertEquals(Fork.State.CANCELLED, fork.state());
        }
    }

    @Test
    void toStringShowsPolicyRunningForksAndLineage() {
        try (TaskGroup group = TaskGroup.open(root, Policy.COLLECT_ALL)) {
            assertEquals("TaskGroup[COLLECT_ALL, 0 running, Root(ManualTimeSource).WithCancel]", group.toString());
        }
    }
}
