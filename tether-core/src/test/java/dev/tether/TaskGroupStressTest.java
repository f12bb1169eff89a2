package dev.tether;

import static org.junit.jupiter.api.Assertions.*;

import dev.tether.TaskGroup.Fork;
import dev.tether.TaskGroup.Policy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Stress tests for the promises that races could break: nothing forked runs after close, and no interrupt
 * reaches a pooled thread's next task. Each runs for {@code tether.stress.millis} (default 1500 ms).
 */
@Timeout(120)
@SuppressWarnings("try") // scopes and groups opened for their effect, closed explicitly to test close
class TaskGroupStressTest {

    @AfterEach
    void currentContextIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
    }

    /** What a fork does; chosen at random per fork. */
    private static Object work(int kind, AtomicInteger inside, AtomicBoolean closed, AtomicInteger violations,
            TaskGroup group) throws Exception {
        if (closed.get()) {
            violations.incrementAndGet(); // started after close returned
        }
        inside.incrementAndGet();
        try {
            switch (kind) {
                case 0 -> {
                    return "quick";
                }
                case 1 -> throw new IllegalStateException("fails");
                case 2 -> {
                    return new LinkedBlockingQueue<String>().take(); // only an interrupt ends it
                }
                case 3 -> {
                    while (!Thread.currentThread().isInterrupted()) {
                        // CPU-bound, checks its interrupt; yields, since two spinning virtual threads would hold
                        // both carriers of a two-core machine and starve the thread that cancels
                        Thread.yield();
                    }
                    return "spun";
                }
                case 4 -> {
                    Blocking.sleep(Context.current(), Duration.ofHours(1)); // ends with the context
                    return "slept";
                }
                default -> {
                    // forks fork: the nested fork must end before close returns as well
                    return group.fork(() -> work(2, inside, closed, violations, group));
                }
            }
        } finally {
            if (closed.get()) {
                violations.incrementAndGet(); // still running after close returned
            }
            inside.decrementAndGet();
        }
    }

    @Test
    void noForkSurvivesClose_acrossThousandsOfGroups() throws Exception {
        long end = System.nanoTime() + Duration.ofMillis(Threads.stressMillis()).toNanos();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        ExecutorService cancellers = Executors.newSingleThreadExecutor();
        AtomicInteger violations = new AtomicInteger();
        int groups = 0;
        int forks = 0;
        try {
            while (System.nanoTime() - end < 0) {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                Policy policy = Policy.values()[random.nextInt(3)];
                CancellableContext parent = Context.background().withCancel();
                AtomicInteger inside = new AtomicInteger();
                AtomicBoolean closed = new AtomicBoolean();
                List<Fork<Object>> forked = new ArrayList<>();
                // platform threads cost about a millisecond each to start on a small machine: fewer of those
                TaskGroup group = switch (random.nextInt(16)) {
                    case 0 -> TaskGroup.open(parent, policy, Thread.ofPlatform().daemon().factory());
                    case 1, 2, 3, 4 -> TaskGroup.openOnExecutor(parent, policy, pool);
                    default -> TaskGroup.open(parent, policy);
                };
                try (group) {
                    int n = 1 + random.nextInt(4);
                    for (int i = 0; i < n; i++) {
                        int kind = random.nextInt(6);
                        forked.add(group.fork(() -> work(kind, inside, closed, violations, group)));
                    }
                    switch (random.nextInt(4)) {
                        case 0 -> parent.cancel();
                        case 1 -> joinQuietly(group, parent::cancel); // the parent ends before join
                        // or while join waits; from a platform thread, as a timer would: virtual threads that spin
                        // (kind 3) can hold every carrier of a small machine, and the canceller must not queue behind
                        case 2 -> joinQuietly(group, () -> cancellers.execute(parent::cancel));
                        default -> { } // close right away
                    }
                }
                closed.set(true);
                assertEquals(0, inside.get(), "a fork still ran after close, group " + groups);
                for (Fork<Object> fork : forked) {
                    assertNotEquals(Fork.State.RUNNING, fork.state(), "group " + groups);
                }
                parent.cancel();
                groups++;
                forks += forked.size();
            }
        } finally {
            pool.shutdownNow();
            cancellers.shutdownNow();
        }
        assertEquals(0, violations.get(), "forks ran after close");
        System.out.println("no fork survived close: " + groups + " groups, " + forks + " forks");
        assertTrue(groups > 1000 || Threads.stressMillis() < 1000, "too few rounds to mean anything: " + groups);
    }

    /** Ends the parent as told, then joins; some forks block until cancelled, so join alone could wait forever. */
    private static void joinQuietly(TaskGroup group, Runnable endParent) throws InterruptedException {
        endParent.run();
        try {
            group.join();
        } catch (ExecutionException | ContextDoneException expected) {
            // outcomes are checked by the functional tests; here only the lifecycle is
        }
    }

    /** The harness first shows it catches the bug it looks for: a plain FutureTask leaks its cancel interrupt. */
    @Test
    void leakHarness_catchesAPlantedLeak_andTheContextBridgesHaveNone() throws Exception {
        try (Threads.NaivePool pool = new Threads.NaivePool()) {
            assertEquals(1, cancelWhileRunningIgnoringInterrupt(pool, task -> {
                FutureTask<String> future = new FutureTask<>(task, "done");
                pool.execute(future);
                return future;
            }), "the planted leak (FutureTask.cancel(true) on a pool that does not clear) must be caught");
        }
        try (Threads.NaivePool pool = new Threads.NaivePool()) {
            ExecutorService cancelling = ContextExecutors.cancelling(pool);
            assertEquals(0, cancelWhileRunningIgnoringInterrupt(pool, task -> cancelling.submit(task, "done")));
        }
    }

    /** Runs a task that ignores interrupts, cancels it with interruption while it runs, and counts leaks. */
    private static int cancelWhileRunningIgnoringInterrupt(Threads.NaivePool pool,
            java.util.function.Function<Runnable, Future<String>> submit) throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        AtomicBoolean release = new AtomicBoolean();
        Future<String> future = submit.apply(() -> {
            running.countDown();
            while (!release.get()) {
                Thread.onSpinWait();
            }
        });
        running.await();
        assertTrue(future.cancel(true));
        release.set(true);
        pool.drain();
        return pool.leaks.get();
    }

    @Test
    void interruptsNeverLeakToThePoolsNextTask_whenContextsEndAsTasksFinish() throws Exception {
        long end = System.nanoTime() + Duration.ofMillis(Threads.stressMillis() / 2).toNanos();
        int rounds = 0;
        try (Threads.NaivePool pool = new Threads.NaivePool()) {
            ExecutorService cancelling = ContextExecutors.cancelling(pool);
            while (System.nanoTime() - end < 0) {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                CancellableContext ctx = Context.background().withCancel();
                int spins = random.nextInt(2000);
                CountDownLatch started = new CountDownLatch(1);
                Future<?> future;
                try (Scope ignored = ctx.attach()) {
                    future = cancelling.submit(() -> {
                        started.countDown();
                        for (int i = 0; i < spins; i++) {
                            Thread.onSpinWait(); // ignores interrupts, so the race with its end is wide open
                        }
                    });
                }
                if (random.nextBoolean()) {
                    started.await();
                }
                for (int i = random.nextInt(2000); i > 0; i--) {
                    Thread.onSpinWait();
                }
                if (random.nextInt(4) == 0) {
                    future.cancel(true);
                } else {
                    ctx.cancel();
                }
                // and the same race through a TaskGroup on the same pool
                CancellableContext parent = Context.background().withCancel();
                try (TaskGroup group = TaskGroup.openOnExecutor(parent, Policy.COLLECT_ALL, pool)) {
                    group.fork(() -> {
                        for (int i = 0; i < spins; i++) {
                            Thread.onSpinWait();
                        }
                        return null;
                    });
                    for (int i = random.nextInt(2000); i > 0; i--) {
                        Thread.onSpinWait();
                    }
                    parent.cancel();
                }
                rounds++;
            }
            pool.drain();
            assertEquals(0, pool.leaks.get(), "interrupts leaked into the next task, in " + rounds + " rounds");
            System.out.println("no interrupt leaked in " + rounds + " rounds, " + pool.ran.get() + " pool tasks");
        }
    }
}
