package dev.tether;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * A stress harness: runs a scenario round after round, releasing each round's actors at the same instant, until
 * its time budget or round count runs out or a round fails, and reports which round failed and what it saw.
 *
 * {@snippet :
 * Stress.Result result = Stress.of("cancel vs derive", Stress.Threads.VIRTUAL).batch(64).run(2, number -> {
 *     CancellableContext parent = Context.background().withCancel();
 *     AtomicReference<Context> child = new AtomicReference<>();
 *     return Stress.Round.of(
 *             () -> child.get().isDone() ? null : "child missed",
 *             parent::cancel,
 *             () -> child.set(parent.withCancel()));
 * });
 * result.assertPassed();
 * }
 *
 * <p>Implementation overview. One worker thread per actor (platform or virtual, as asked) lives for the whole run.
 * The coordinator (the test's thread) prepares a batch of rounds ({@link #batch}), publishes it by bumping the
 * volatile {@code generation} and unparks the workers. The workers then run the batch's rounds in lockstep: at
 * each round they meet at a spin barrier (one counter per round), each spins a random few iterations (the jitter,
 * so that over many rounds the actors' relative start sweeps across the race window instead of always hitting the
 * same offset) and runs its actor. Batching matters: a release costs a wake-up or two (tens of microseconds),
 * the barrier within a batch a cache-line handoff (a fraction of one), so a batch gives a race many more tries
 * per second. The last worker to finish the batch unparks the coordinator, which runs the rounds' checks in
 * order: everything the actors did happens-before them through {@code finished}. Spinning yields now and then and
 * eventually parks, so that a virtual-thread worker never holds a carrier another one needs in order to arrive: on
 * a machine with two cores there are only two carriers.
 *
 * <p>A batch that does not finish within {@link #hangMillis} fails with the stacks of the workers (also virtual
 * ones, which {@link Thread#getAllStackTraces()} leaves out) and of every platform thread; the stuck workers are
 * left behind as daemons.
 */
final class Stress {

    /**
     * The budget of each stress test, in milliseconds, from the system property {@code tether.stress.millis} (the
     * Maven build passes it). A test that runs on both thread kinds gives each half of it.
     */
    static final long BUDGET_MILLIS = Long.getLong("tether.stress.millis", 1500);

    /** The thread kinds a scenario runs on: the JDK's StressCancellation grid, in small. */
    enum Threads {
        PLATFORM,
        VIRTUAL;

        Thread start(String name, Runnable task) {
            return this == PLATFORM
                    ? Thread.ofPlatform().name(name).daemon().start(task)
                    : Thread.ofVirtual().name(name).start(task);
        }
    }

    /**
     * One round: the actors to release together, and the check to run once all of them have returned, which
     * answers what went wrong, or null.
     */
    record Round(String label, List<Runnable> actors, Supplier<@Nullable String> check) {

        static Round of(Supplier<@Nullable String> check, Runnable... actors) {
            return new Round("", List.of(actors), check);
        }

        static Round of(String label, Supplier<@Nullable String> check, Runnable... actors) {
            return new Round(label, List.of(actors), check);
        }
    }

    /** Makes round {@code number} (from 1): fresh objects for the actors to race on. */
    @FunctionalInterface
    interface Scenario {
        Round round(int number);
    }

    /** How a run ended: the rounds it ran (the failing one included), its wall time, and the first failure. */
    record Result(String name, Threads threads, int rounds, long millis, @Nullable String failure) {

        boolean failed() {
            return failure != null;
        }

        Result assertPassed() {
            if (failure != null) {
                throw new AssertionError(failure);
            }
            return this;
        }

        @Override
        public String toString() {
            return name + " on " + threads + " threads: " + rounds + " rounds in " + millis + " ms, "
                    + (failure == null ? "no failure" : "found: " + failure);
        }
    }

    private final String name;
    private final Threads threads;
    private long budgetMillis = BUDGET_MILLIS / Threads.values().length;
    private int maxRounds = 2_000_000;
    private int jitterSpins = 256;
    private int batch = 1;
    private long hangMillis = 10_000;

    private Stress(String name, Threads threads) {
        this.name = name;
        this.threads = threads;
    }

    /** A run named {@code name} on {@code threads}, with the default budget: half of {@link #BUDGET_MILLIS}. */
    static Stress of(String name, Threads threads) {
        return new Stress(Objects.requireNonNull(name, "name"), Objects.requireNonNull(threads, "threads"));
    }

    Stress budgetMillis(long millis) {
        if (millis <= 0) {
            throw new IllegalArgumentException("millis: " + millis + " (expected: > 0)");
        }
        this.budgetMillis = millis;
        return this;
    }

    Stress maxRounds(int rounds) {
        if (rounds <= 0) {
            throw new IllegalArgumentException("rounds: " + rounds + " (expected: > 0)");
        }
        this.maxRounds = rounds;
        return this;
    }

    /** Each actor waits a random 0 to {@code spins} {@link Thread#onSpinWait()}s after the release; 0 turns it off. */
    Stress jitterSpins(int spins) {
        if (spins < 0) {
            throw new IllegalArgumentException("spins: " + spins + " (expected: >= 0)");
        }
        this.jitterSpins = spins;
        return this;
    }

    /**
     * Rounds per release: the workers run them in lockstep, meeting at a spin barrier before each, and the checks
     * run after the whole batch. Worth it for rounds of a microsecond or less.
     */
    Stress batch(int rounds) {
        if (rounds <= 0) {
            throw new IllegalArgumentException("rounds: " + rounds + " (expected: > 0)");
        }
        this.batch = rounds;
        return this;
    }

    /** How long one batch of rounds may take before the run fails as hung (a deadlock, say), with thread stacks. */
    Stress hangMillis(long millis) {
        if (millis <= 0) {
            throw new IllegalArgumentException("millis: " + millis + " (expected: > 0)");
        }
        this.hangMillis = millis;
        return this;
    }

    /** Runs rounds of {@code scenario}, each with {@code actors} actors, and prints and returns the result. */
    Result run(int actors, Scenario scenario) {
        if (actors <= 0) {
            throw new IllegalArgumentException("actors: " + actors + " (expected: > 0)");
        }
        Crew crew = new Crew(actors, Thread.currentThread());
        Thread[] workers = new Thread[actors];
        for (int i = 0; i < actors; i++) {
            int index = i;
            workers[i] = threads.start("stress-" + name + "-" + i, () -> crew.work(index));
        }
        long start = System.nanoTime();
        long end = start + budgetMillis * 1_000_000;
        int rounds = 0;
        String failure = null;
        boolean hung = false;
        try {
            while (failure == null && rounds < maxRounds && System.nanoTime() - end < 0) {
                int first = rounds + 1;
                List<Round> next = new ArrayList<>(batch);
                for (int k = 0; k < batch && rounds < maxRounds; k++) {
                    Round round = scenario.round(++rounds);
                    if (round.actors().size() != actors) {
                        throw new IllegalArgumentException("round " + rounds + " has " + round.actors().size()
                                + " actors (expected: " + actors + ")");
                    }
                    next.add(round);
                }
                crew.release(next, jitterSpins, workers);
                if (!crew.awaitFinished(hangMillis * 1_000_000, threads == Threads.PLATFORM ? SPINS_BEFORE_PARK : 64)) {
                    hung = true;
                    failure = name + ", rounds " + first + " to " + rounds + " on " + threads + " threads: did not"
                            + " finish within " + hangMillis + " ms (" + crew.finished.get() + " of " + actors
                            + " actors returned); thread stacks:\n" + dump(workers);
                    break;
                }
                Throwable thrown = crew.error.get();
                if (thrown != null) {
                    failure = name + ", rounds " + first + " to " + rounds + " on " + threads + " threads: an"
                            + " actor threw " + stackOf(thrown);
                    break;
                }
                for (int k = 0; k < next.size() && failure == null; k++) {
                    Round round = next.get(k);
                    String why;
                    try {
                        why = round.check().get();
                    } catch (Throwable t) {
                        why = "the check threw " + stackOf(t);
                    }
                    if (why != null) {
                        failure = describe(first + k, round, why);
                        rounds = first + k;
                    }
                }
            }
        } finally {
            crew.stop(workers);
            if (!hung) {
                for (Thread worker : workers) {
                    try {
                        worker.join(1_000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        }
        Result result = new Result(name, threads, rounds, (System.nanoTime() - start) / 1_000_000, failure);
        System.out.println("[stress] " + result);
        return result;
    }

    private String describe(int number, Round round, String what) {
        return name + ", round " + number + (round.label().isEmpty() ? "" : " (" + round.label() + ")") + " on "
                + threads + " threads: " + what;
    }

    /**
     * Spins until {@code condition} holds; for actors that wait on each other within a round. It yields now and
     * then and, after a while, parks for a few microseconds at a time: a virtual thread that only spun or yielded
     * would keep its carrier, and with more virtual actors than carriers (two, on two cores) the one it waits for
     * might never be scheduled.
     */
    static void spinUntil(BooleanSupplier condition) {
        for (int spins = 1; !condition.getAsBoolean(); spins++) {
            if (spins > SPINS_BEFORE_PARK) {
                LockSupport.parkNanos(10_000);
            } else if ((spins & 127) == 0) {
                Thread.yield();
            } else {
                Thread.onSpinWait();
            }
        }
    }

    /** The stacks of {@code workers}, then of every other live platform thread. */
    static String dump(Thread... workers) {
        StringBuilder out = new StringBuilder();
        for (Thread t : workers) {
            appendStack(out, t, t.getStackTrace());
        }
        for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
            if (!List.of(workers).contains(e.getKey())) {
                appendStack(out, e.getKey(), e.getValue());
            }
        }
        return out.toString();
    }

    private static void appendStack(StringBuilder out, Thread thread, StackTraceElement[] stack) {
        out.append('"').append(thread.getName()).append("\" ").append(thread.isVirtual() ? "virtual " : "")
                .append(thread.getState()).append('\n');
        for (StackTraceElement frame : stack) {
            out.append("\tat ").append(frame).append('\n');
        }
    }

    private static String stackOf(Throwable t) {
        java.io.StringWriter out = new java.io.StringWriter();
        t.printStackTrace(new java.io.PrintWriter(out));
        return out.toString();
    }

    /** Spins before a waiting thread parks: long enough to skip the park for a quick check between rounds. */
    private static final int SPINS_BEFORE_PARK = 1 << 12;

    /** A cause without a stack trace: rounds make many, and only their identity matters. */
    static final class Cause extends Exception {
        private static final long serialVersionUID = 1L;

        Cause(String message) {
            super(message, null, false, false);
        }
    }

    /** The workers' shared state; see the overview above. */
    private static final class Crew {

        final int size;
        final Thread coordinator;
        // Written by the coordinator before it bumps generation, read by the workers after they see the bump.
        List<Round> rounds = List.of();
        /** One arrival counter per round of the batch: the lockstep barrier. */
        AtomicIntegerArray arrivals = new AtomicIntegerArray(0);
        int jitterSpins;
        boolean stopping;
        /** Bumped by the coordinator to release a batch (or the stop); read by the workers. */
        volatile int generation;
        /** Reset by the coordinator before the release; counted up by the workers. */
        final AtomicInteger finished = new AtomicInteger();
        /** The first throwable of an actor in the current batch; reset by the coordinator. */
        final AtomicReference<@Nullable Throwable> error = new AtomicReference<>();

        Crew(int size, Thread coordinator) {
            this.size = size;
            this.coordinator = coordinator;
        }

        void release(List<Round> next, int jitter, Thread[] workers) {
            rounds = next;
            arrivals = new AtomicIntegerArray(next.size());
            jitterSpins = jitter;
            finished.set(0);
            error.set(null);
            generation++; // the only writer: the coordinator
            for (Thread worker : workers) {
                LockSupport.unpark(worker);
            }
        }

        void stop(Thread[] workers) {
            stopping = true;
            generation++;
            for (Thread worker : workers) {
                LockSupport.unpark(worker);
            }
        }

        /**
         * Waits until every actor returned. Spinning first saves a wake-up per round with platform actors; virtual
         * actors need both cores for their carriers, so the coordinator parks almost at once.
         */
        boolean awaitFinished(long timeoutNanos, int spinsBeforePark) {
            long deadline = System.nanoTime() + timeoutNanos;
            for (int spins = 0; finished.get() < size; spins++) {
                if (spins < spinsBeforePark) {
                    if ((spins & 127) == 127) {
                        Thread.yield();
                    } else {
                        Thread.onSpinWait();
                    }
                } else {
                    LockSupport.parkNanos(this, 1_000_000);
                    if (System.nanoTime() - deadline > 0 && finished.get() < size) {
                        return false;
                    }
                }
            }
            return true;
        }

        void work(int index) {
            int seen = 0;
            while (true) {
                int g;
                for (int spins = 0; (g = generation) == seen; spins++) {
                    if (spins < SPINS_BEFORE_PARK) {
                        if ((spins & 127) == 127) {
                            Thread.yield();
                        } else {
                            Thread.onSpinWait();
                        }
                    } else {
                        LockSupport.park(this);
                    }
                }
                seen = g;
                if (stopping) {
                    return;
                }
                List<Round> batch = rounds;
                AtomicIntegerArray arrived = arrivals;
                ThreadLocalRandom random = ThreadLocalRandom.current();
                for (int k = 0; k < batch.size(); k++) {
                    int step = k;
                    arrived.incrementAndGet(step);
                    spinUntil(() -> arrived.get(step) >= size);
                    int delay = jitterSpins > 0 && random.nextBoolean() ? random.nextInt(jitterSpins + 1) : 0;
                    for (int i = 0; i < delay; i++) {
                        Thread.onSpinWait();
                    }
                    try {
                        batch.get(k).actors().get(index).run();
                    } catch (Throwable t) {
                        error.compareAndSet(null, t);
                    }
                }
                if (finished.incrementAndGet() == size) {
                    LockSupport.unpark(coordinator);
                }
            }
        }
    }
}
