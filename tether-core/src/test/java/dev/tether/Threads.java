package dev.tether;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/** Test support: thread kinds, waiting for a thread to block, and a pool that does not clear interrupts. */
final class Threads {

    private Threads() {}

    enum Kind {
        PLATFORM, VIRTUAL;

        Thread start(Runnable task) {
            return this == PLATFORM ? Thread.ofPlatform().daemon().start(task) : Thread.ofVirtual().start(task);
        }
    }

    /** How a task on another thread ended, and whether that thread's interrupt flag was set afterwards. */
    record Outcome(@Nullable Object value, @Nullable Throwable thrown, boolean interruptedAfter) {}

    /** A task started on a thread of the given kind; {@link #outcome} completes when it ends. */
    static final class Worker {
        final Thread thread;
        final CompletableFuture<Outcome> outcome = new CompletableFuture<>();

        Worker(Kind kind, Callable<?> task) {
            thread = kind.start(() -> {
                Object value = null;
                Throwable thrown = null;
                try {
                    value = task.call();
                } catch (Throwable t) {
                    thrown = t;
                }
                outcome.complete(new Outcome(value, thrown, Thread.currentThread().isInterrupted()));
            });
        }

        Outcome await() throws Exception {
            return outcome.get(10, TimeUnit.SECONDS);
        }
    }

    /**
     * Waits (really, in wall-clock time, but only for the scheduler) until {@code thread} is parked or blocked and
     * {@code ready} holds. Not deadline logic: it sequences a test with a thread that has no latch to count down.
     */
    static void awaitBlocked(Thread thread, BooleanSupplier ready) {
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            Thread.State s = thread.getState();
            if ((s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING || s == Thread.State.BLOCKED)
                    && ready.getAsBoolean()) {
                return;
            }
            if (s == Thread.State.TERMINATED) {
                throw new AssertionError(thread + " ended instead of blocking");
            }
            if (System.nanoTime() - giveUp > 0) {
                throw new AssertionError(thread + " did not block: " + s);
            }
            Thread.yield();
        }
    }

    static void awaitBlocked(Thread thread) {
        awaitBlocked(thread, () -> true);
    }

    /**
     * A one-thread pool that, unlike ThreadPoolExecutor, never clears its thread's interrupt flag between tasks,
     * and counts every task after which the flag is still set: a leak any executor bridge must not cause.
     */
    static final class NaivePool extends AbstractExecutorService implements AutoCloseable {
        private static final Runnable STOP = () -> { };
        private final LinkedBlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
        final AtomicInteger leaks = new AtomicInteger();
        final AtomicInteger ran = new AtomicInteger();
        private final Thread worker;

        NaivePool() {
            worker = Thread.ofPlatform().daemon().name("naive-pool").start(this::loop);
        }

        private void loop() {
            while (true) {
                Runnable task;
                try {
                    task = queue.take();
                } catch (InterruptedException e) {
                    leaks.incrementAndGet(); // only a leaked interrupt can get here: nobody else interrupts us
                    continue;
                }
                if (task == STOP) {
                    return;
                }
                try {
                    task.run();
                } catch (Throwable ignored) {
                    // a failing task must not stop the pool
                }
                ran.incrementAndGet();
                if (Thread.interrupted()) {
                    leaks.incrementAndGet();
                }
            }
        }

        @Override
        public void execute(Runnable task) {
            queue.add(task);
        }

        Thread thread() {
            return worker;
        }

        /** Waits until every task queued so far has run. */
        void drain() throws InterruptedException {
            CountDownLatch drained = new CountDownLatch(1);
            execute(drained::countDown);
            if (!drained.await(10, TimeUnit.SECONDS)) {
                throw new AssertionError("pool did not drain");
            }
        }

        @Override
        public void shutdown() {
            queue.add(STOP);
        }

        @Override
        public List<Runnable> shutdownNow() {
            shutdown();
            return List.of();
        }

        @Override
        public boolean isShutdown() {
            return !worker.isAlive();
        }

        @Override
        public boolean isTerminated() {
            return !worker.isAlive();
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
            return worker.join(Duration.ofNanos(unit.toNanos(timeout)));
        }

        @Override
        public void close() {
            shutdown();
            try {
                worker.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static long stressMillis() {
        return Long.getLong("tether.stress.millis", 1500);
    }
}
