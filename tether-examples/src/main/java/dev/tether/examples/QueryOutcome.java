package dev.tether.examples;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * How the last hop's database statement ended, and when the database itself stopped running it.
 *
 * @param statement the statement, shortened for the report
 * @param backend the server's id for the connection: PostgreSQL's backend pid, H2's session id
 * @param detail rows affected, or the SQLState and message it failed with and the context error behind it
 * @param gone when the database stopped running the statement after its context ended; completes with null if the
 *     statement ended without its context ending first
 */
record QueryOutcome(String statement, long backend, boolean completed, String detail, Duration elapsed,
        CompletableFuture<@Nullable Gone> gone) {

    /**
     * The database's own view of a cancelled statement: {@code cancelledNanos} is when its context ended,
     * {@code goneNanos} when {@code pg_stat_activity} (or H2's {@code SESSIONS}) first showed the connection not
     * running it, in state {@code state}; {@code goneNanos} is {@link #STILL_RUNNING} if it ran on past the watch.
     */
    record Gone(long cancelledNanos, long goneNanos, String state) {

        static final long STILL_RUNNING = Long.MIN_VALUE;

        boolean stillRunning() {
            return goneNanos == STILL_RUNNING;
        }

        /** From the context's end to the statement gone on the server. */
        Duration afterCancel() {
            return Duration.ofNanos(goneNanos - cancelledNanos);
        }
    }
}
