package dev.tether.examples;

import java.util.concurrent.TimeUnit;

/**
 * The chain demo's slow query on H2, where there is no {@code pg_sleep}: an alias ({@code SLEEP_MS}) that H2 calls
 * once per row, so that a query made slow by it stays cancellable. H2 checks for a cancel between rows, not inside
 * a function, so the demo sleeps a millisecond per row over many rows rather than once for long. Public only
 * because H2 calls it by reflection.
 */
public final class H2Sleep {

    private H2Sleep() {}

    /**
     * Sleeps {@code millis} milliseconds (0 to 1000) and returns 0.
     *
     * @throws IllegalArgumentException if millis is outside 0 to 1000
     * @throws InterruptedException if the thread is interrupted, which fails the statement
     */
    public static int sleepMillis(int millis) throws InterruptedException {
        if (millis < 0 || millis > 1000) {
            throw new IllegalArgumentException("millis: " + millis + " (expected: 0 to 1000)");
        }
        TimeUnit.MILLISECONDS.sleep(millis);
        return 0;
    }
}
