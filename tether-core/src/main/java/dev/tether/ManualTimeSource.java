package dev.tether;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.PriorityQueue;

/**
 * A time source that moves only when told to, for testing deadline logic without sleeping. Timers due by the new
 * time run on the thread that calls {@link #advance(Duration)}, in deadline order, before it returns.
 *
 * <pre>{@code
 * ManualTimeSource time = ManualTimeSource.create();
 * try (CancellableContext ctx = Context.root(time).withTimeout(Duration.ofSeconds(1))) {
 *     time.advance(Duration.ofSeconds(1));
 *     assert ctx.err() instanceof DeadlineExceededException;
 * }
 * }</pre>
 */
public final class ManualTimeSource implements TimeSource {

    private final Instant origin;
    private final PriorityQueue<Task> queue = new PriorityQueue<>();
    private long nanos;
    private long sequence;

    private ManualTimeSource(Instant origin) {
        this.origin = origin;
    }

    /** A time source that starts at 2000-01-01T00:00:00Z, so printed deadlines are easy to read. */
    public static ManualTimeSource create() {
        return create(Instant.parse("2000-01-01T00:00:00Z"));
    }

    /** A time source that starts at {@code start}. */
    public static ManualTimeSource create(Instant start) {
        return new ManualTimeSource(Objects.requireNonNull(start, "start must not be null"));
    }

    /**
     * Moves time forward by {@code amount} and runs, in order, every timer due by then.
     *
     * @throws IllegalArgumentException if amount is negative: time never goes backwards
     */
    public void advance(Duration amount) {
        Objects.requireNonNull(amount, "amount must not be null");
        if (amount.isNegative()) {
            throw new IllegalArgumentException("amount must not be negative: " + amount);
        }
        long target;
        synchronized (this) {
            target = nanos + amount.toNanos();
        }
        while (true) {
            Task due;
            synchronized (this) {
                due = queue.peek();
                if (due == null || due.at - target > 0) {
                    nanos = target;
                    return;
                }
                queue.poll();
                // Time reads as the task's own deadline while it runs, as it would on a real clock.
                nanos = Math.max(nanos, due.at);
            }
            due.task.run();
        }
    }

    /** Timers scheduled and not yet run or stopped. */
    public synchronized int pendingTimers() {
        return queue.size();
    }

    @Override
    public synchronized long nanoTime() {
        return nanos;
    }

    @Override
    public synchronized Instant now() {
        return origin.plusNanos(nanos);
    }

    @Override
    public synchronized Registration schedule(Runnable task, long delayNanos) {
        Objects.requireNonNull(task, "task must not be null");
        Task scheduled = new Task(task, nanos + Math.max(0, delayNanos), sequence++);
        queue.add(scheduled);
        return () -> {
            synchronized (this) {
                return queue.remove(scheduled);
            }
        };
    }

    @Override
    public synchronized String toString() {
        return "ManualTimeSource[" + now() + ", " + queue.size() + " timers]";
    }

    private record Task(Runnable task, long at, long sequence) implements Comparable<Task> {
        @Override
        public int compareTo(Task o) {
            int c = Long.compare(at, o.at);
            return c != 0 ? c : Long.compare(sequence, o.sequence);
        }
    }
}
