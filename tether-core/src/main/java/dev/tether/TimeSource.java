package dev.tether;

import java.time.Instant;

/**
 * The clock and timer a context tree measures deadlines with. Contexts derived from {@link Context#background()}
 * use {@link #system()}; a tree started with {@link Context#root(TimeSource)} uses the given one, which lets tests
 * drive deadlines with a {@link ManualTimeSource} instead of sleeping.
 *
 * <p>Implementations must be thread-safe, and {@link #nanoTime()} must never go backwards.
 */
public interface TimeSource {

    /** The system clock: {@link System#nanoTime()}, {@link Instant#now()}, and one shared daemon timer thread. */
    static TimeSource system() {
        return SystemTimeSource.INSTANCE;
    }

    /** A monotonic reading in nanoseconds, as {@link System#nanoTime()}: only differences are meaningful. */
    long nanoTime();

    /** The wall-clock time now, used to convert between deadlines as Instants and as {@link #nanoTime()} values. */
    Instant now();

    /**
     * Runs {@code task} once, on a thread of the time source's, when {@code delayNanos} have passed by
     * {@link #nanoTime()}. {@link Registration#stop()} calls it off. Tether schedules a task only for a deadline
     * that someone waits on, one per such deadline.
     */
    Registration schedule(Runnable task, long delayNanos);
}
