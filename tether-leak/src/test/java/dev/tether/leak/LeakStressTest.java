package dev.tether.leak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tether.Blocking;
import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ContextDoneException;
import dev.tether.Key;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Many tasks start and end on many threads while their contexts end, with checks running concurrently on the
 * detector's own thread (grace period zero, so every context that ends with live tasks is checked at once).
 * Invariants: a task that ended before its context did is never reported; every task still running after its
 * context ended (one that ignores the end until the round is over) is reported, exactly once.
 *
 * <p>Besides those two kinds, "racy" tasks stop as soon as their context ends: they race the check, and may or may
 * not be reported, which the test allows; they are there to make ends and checks collide.
 */
@Timeout(120)
class LeakStressTest {

    private static final long BUDGET_MILLIS = Long.getLong("tether.stress.millis", 1500);
    private static final int CREATORS = 4;
    private static final Key<Integer> ROUND = Key.of("round");

    private final Map<String, Integer> reported = new ConcurrentHashMap<>();
    private final Queue<String> violations = new ConcurrentLinkedQueue<>();
    private final Set<String> finished = ConcurrentHashMap.newKeySet();

    @Test
    void noFinishedTaskIsReportedAndEveryLeakedOneIs() throws Exception {
        LeakListener listener = new LeakListener() {
            @Override
            public void onLeak(LeakReport report) {
                for (TaskInfo t : report.tasks()) {
                    if (reported.merge(t.thread(), 1, Integer::sum) > 1) {
                        violations.add("reported twice: " + t.thread());
                    }
                    if (finished.contains(t.thread())) {
                        violations.add("finished before its context ended, yet reported: " + t.thread());
                    }
                }
            }
        };
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(BUDGET_MILLIS);
        int rounds = 0;
        int leakedTotal = 0;
        try (LeakDetector detector = LeakDetector.install(LeakDetector.Options.defaults()
                .withLevel(LeakDetector.Level.SAMPLED)
                .withSampleInterval(8)
                .withGracePeriod(Duration.ZERO)
                .withListener(listener))) {
            do {
                leakedTotal += round(rounds++, detector);
            } while (System.nanoTime() - deadline < 0);
            assertTrue(detector.running().isEmpty(), () -> "tasks left running: " + detector.running());
        }
        assertTrue(violations.isEmpty(), violations::toString);
        assertTrue(leakedTotal > 0);
        System.out.printf("LeakStressTest: %d rounds, %d leaked tasks reported, %d finished tasks never reported%n",
                rounds, leakedTotal, finished.size());
    }

    /** One round: creators make contexts and tasks; returns how many tasks leaked, after checking they were reported. */
    private int round(int round, LeakDetector detector) throws Exception {
        CountDownLatch endOfRound = new CountDownLatch(1);
        Queue<Thread> leakyThreads = new ConcurrentLinkedQueue<>();
        Queue<Thread> racyThreads = new ConcurrentLinkedQueue<>();
        Set<String> leaky = ConcurrentHashMap.newKeySet();
        AtomicInteger names = new AtomicInteger();
        CancellableContext roundContext = Context.background().withValue(ROUND, round).withCancel();
        List<Thread> creators = new ArrayList<>();
        long stop = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(50, BUDGET_MILLIS / 10));
        for (int c = 0; c < CREATORS; c++) {
            creators.add(Thread.ofPlatform().name("creator-" + round + "-" + c).start(() -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                while (System.nanoTime() - stop < 0) {
                    CancellableContext request = roundContext.withCancel();
                    CancellableContext inner = random.nextBoolean() ? request.withTimeout(Duration.ofHours(1)) : request;
                    // Finished tasks: each ends before any context ends.
                    List<Thread> done = new ArrayList<>();
                    for (int i = random.nextInt(3); i > 0; i--) {
                        String name = "finished-" + round + "-" + names.incrementAndGet();
                        CancellableContext where = random.nextBoolean() ? inner : request;
                        done.add(Thread.ofVirtual().name(name).start(where.wrap((Runnable) () -> finished.add(name))));
                    }
                    // Leaky tasks: run until the round is over, whatever their context does.
                    List<Thread> late = new ArrayList<>();
                    for (int i = random.nextInt(3); i > 0; i--) {
                        String name = "leaky-" + round + "-" + names.incrementAndGet();
                        leaky.add(name);
                        Runnable body = (random.nextBoolean() ? inner : request).wrap(() -> awaitQuietly(endOfRound));
                        if (late.isEmpty() && random.nextInt(4) == 0) {
                            Thread t = Thread.ofVirtual().name(name).unstarted(body); // started after the end
                            late.add(t);
                            leakyThreads.add(t);
                        } else {
                            leakyThreads.add(Thread.ofVirtual().name(name).start(body));
                        }
                    }
                    // Racy tasks: stop when the context ends, racing the check.
                    for (int i = random.nextInt(2); i > 0; i--) {
                        String name = "racy-" + round + "-" + names.incrementAndGet();
                        racyThreads.add(Thread.ofVirtual().name(name).start(inner.wrap(() -> {
                            try {
                                Blocking.sleep(Context.current(), Duration.ofHours(1));
                            } catch (ContextDoneException e) {
                                // stops as soon as it hears of the end
                            }
                        })));
                    }
                    for (Thread t : done) {
                        joinQuietly(t);
                    }
                    if (random.nextBoolean()) {
                        inner.cancel();
                    }
                    request.cancel();
                    inner.cancel();
                    for (Thread t : late) {
                        t.start();
                    }
                }
            }));
        }
        for (Thread t : creators) {
            t.join();
        }
        roundContext.cancel();
        for (Thread t : racyThreads) {
            t.join(TimeUnit.SECONDS.toMillis(Collector.WAIT_SECONDS));
        }
        long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(Collector.WAIT_SECONDS);
        while (!reported.keySet().containsAll(leaky)) {
            if (System.nanoTime() - waitUntil > 0) {
                Set<String> missing = ConcurrentHashMap.newKeySet();
                missing.addAll(leaky);
                missing.removeAll(reported.keySet());
                StringBuilder seen = new StringBuilder();
                for (TaskInfo t : detector.running().tasks()) {
                    if (missing.contains(t.thread())) {
                        seen.append("\n").append(t.thread()).append(" leaked=").append(t.leaked())
                                .append(" outlived=").append(t.outlivedMillis()).append(' ').append(t.classification())
                                .append(' ').append(t.lineage());
                    }
                }
                fail("round " + round + ": leaked tasks never reported: " + missing + "; the detector sees:" + seen);
            }
            Thread.sleep(1);
        }
        endOfRound.countDown();
        for (Thread t : leakyThreads) {
            t.join(TimeUnit.SECONDS.toMillis(Collector.WAIT_SECONDS));
            assertEquals(Thread.State.TERMINATED, t.getState(), t::toString);
        }
        return leaky.size();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        while (true) {
            try {
                if (latch.await(1, TimeUnit.MINUTES)) {
                    return;
                }
            } catch (InterruptedException e) {
                // ignores its cancellation: the leak
            }
        }
    }

    private static void joinQuietly(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
