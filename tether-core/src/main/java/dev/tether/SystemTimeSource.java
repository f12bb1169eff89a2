package dev.tether;

import java.time.Instant;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/** The system clock, with one shared daemon thread that fires the deadlines someone waits on. */
final class SystemTimeSource implements TimeSource {

    static final SystemTimeSource INSTANCE = new SystemTimeSource();

    private SystemTimeSource() {}

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    @Override
    public Instant now() {
        return Instant.now();
    }

    @Override
    public Registration schedule(Runnable task, long delayNanos) {
        ScheduledFuture<?> future = Timer.EXECUTOR.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
        return () -> future.cancel(false);
    }

    @Override
    public String toString() {
        return "SystemTimeSource";
    }

    /** Started on first use: a program that never waits on a deadline never starts the thread. */
    private static final class Timer {
        static final ScheduledThreadPoolExecutor EXECUTOR = create();

        private static ScheduledThreadPoolExecutor create() {
            ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, task -> {
                Thread thread = new Thread(task, "tether-deadlines");
                thread.setDaemon(true);
                return thread;
            });
            // A cancelled context must not stay reachable from the queue until its deadline.
            executor.setRemoveOnCancelPolicy(true);
            return executor;
        }
    }
}
