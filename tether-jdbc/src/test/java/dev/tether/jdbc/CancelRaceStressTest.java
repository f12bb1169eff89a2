package dev.tether.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.Scope;
import dev.tether.testing.ThrowawayPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Contexts that end at random moments around a statement: before it starts, while Tether prepares it, as the
 * driver starts, while it runs, as it completes. Over platform and virtual threads, on H2 and on PostgreSQL, for
 * {@code tether.stress.millis} each. Every outcome must be one of two: the right result, or an SQLException whose
 * cause is the context's err with one of Tether's SQLStates. Afterwards the thread holds no interrupt and the
 * connection runs the next statement normally, so no cancel leaked past the statement it was meant for.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class CancelRaceStressTest {

    private static final long MILLIS = Long.getLong("tether.stress.millis", 1500);
    private static final Set<String> CONTEXT_STATES =
            Set.of(SqlStates.REFUSED_CANCELLED, SqlStates.REFUSED_DEADLINE, SqlStates.QUERY_CANCELLED);
    private static final int WORKERS = 2;

    private final LongAdder completed = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private final LongAdder cancelled = new LongAdder();

    @ParameterizedTest(name = "virtual threads: {0}")
    @ValueSource(booleans = {false, true})
    void h2_statementsRacingTheirContexts(boolean virtual) throws Exception {
        JdbcDataSource h2 = new JdbcDataSource();
        h2.setURL("jdbc:h2:mem:stress" + virtual + ";DB_CLOSE_DELAY=-1;TRACE_LEVEL_FILE=0");
        DataSource db = TetherDataSource.builder(h2).minimumBudget(Duration.ZERO).build();
        // a few hundred microseconds of work, so that contexts end before, during and after it
        race(db, virtual, "SELECT SUM(X) FROM SYSTEM_RANGE(1, 2000)", 2_001_000L, 400);
    }

    @ParameterizedTest(name = "virtual threads: {0}")
    @ValueSource(booleans = {false, true})
    void postgres_statementsRacingTheirContexts(boolean virtual, ThrowawayPostgres pg) throws Exception {
        DataSource db = TetherDataSource.builder(pg.dataSource("tether-test")).minimumBudget(Duration.ZERO).build();
        race(db, virtual, "SELECT sum(g) FROM generate_series(1, 20000) g", 200_010_000L, 3_000);
    }

    /**
     * The wait for a pooled connection, interrupted when the context ends: 4 threads on a pool of 2. Every
     * getConnection either returns a working connection or throws with the context's err, and leaves no interrupt.
     */
    @Test
    void connectionWaitsRacingTheirContexts() throws Exception {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl("jdbc:h2:mem:acquire;DB_CLOSE_DELAY=-1;TRACE_LEVEL_FILE=0");
        config.setMaximumPoolSize(2);
        config.setConnectionTimeout(30_000);
        try (HikariDataSource hikari = new HikariDataSource(config);
                ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            DataSource db = TetherDataSource.builder(hikari).minimumBudget(Duration.ZERO).build();
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MILLIS);
            List<Future<?>> workers = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                workers.add(threads.submit(() -> {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    while (System.nanoTime() < end) {
                        try (CancellableContext ctx = Context.background().withTimeout(
                                Duration.ofNanos(random.nextLong(2_000_000L)));
                                Scope scope = ctx.attach()) {
                            try (Connection c = db.getConnection()) {
                                completed.increment();
                                Thread.onSpinWait();
                                assertTrue(c.isValid(5));
                            } catch (SQLException e) {
                                assertContextFailure(ctx, e);
                            }
                        }
                        assertFalse(Thread.currentThread().isInterrupted(), "an interrupt leaked out of getConnection");
                    }
                    return null;
                }));
            }
            for (Future<?> w : workers) {
                w.get(60, TimeUnit.SECONDS);
            }
            assertEquals(0, hikari.getHikariPoolMXBean().getActiveConnections());
        }
        report("connection waits");
        assertTrue(completed.sum() > 0, "no connection was ever handed out");
        assertTrue(refused.sum() > 0, "no wait was ever cut short");
    }

    private void race(DataSource db, boolean virtual, String query, long expected, int maxBudgetMicros)
            throws Exception {
        ThreadFactory factory = virtual ? Thread.ofVirtual().factory() : Thread.ofPlatform().factory();
        try (ExecutorService workers = Executors.newThreadPerTaskExecutor(factory);
                ExecutorService cancellers = Executors.newThreadPerTaskExecutor(factory)) {
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MILLIS);
            List<Future<?>> running = new ArrayList<>();
            for (int w = 0; w < WORKERS; w++) {
                running.add(workers.submit(() -> {
                    work(db, cancellers, query, expected, maxBudgetMicros, end);
                    return null;
                }));
            }
            for (Future<?> f : running) {
                f.get(90, TimeUnit.SECONDS);
            }
        }
        report((virtual ? "virtual" : "platform") + " threads, " + query);
        assertTrue(completed.sum() > 0, "no statement ever completed");
        assertTrue(refused.sum() + cancelled.sum() > 0, "no statement was ever stopped");
    }

    private void work(DataSource db, ExecutorService cancellers, String query, long expected, int maxBudgetMicros,
            long end) throws SQLException {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            while (System.nanoTime() < end) {
                boolean transaction = random.nextBoolean();
                c.setAutoCommit(!transaction);
                CancellableContext ctx = random.nextBoolean()
                        ? Context.background().withTimeout(Duration.ofNanos(random.nextLong(maxBudgetMicros * 1_000L)))
                        : Context.background().withCancel();
                try (ctx; Scope scope = ctx.attach()) {
                    if (random.nextBoolean()) {
                        long spin = random.nextLong(maxBudgetMicros * 1_000L);
                        cancellers.execute(() -> {
                            long until = System.nanoTime() + spin;
                            while (System.nanoTime() < until) {
                                Thread.onSpinWait();
                            }
                            ctx.cancel();
                        });
                    }
                    try (ResultSet rs = s.executeQuery(query)) {
                        assertTrue(rs.next());
                        assertEquals(expected, rs.getLong(1));
                        completed.increment();
                    } catch (SQLException e) {
                        assertContextFailure(ctx, e);
                    }
                }
                assertFalse(Thread.currentThread().isInterrupted(), "an interrupt leaked out of a statement");
                if (transaction) {
                    c.rollback(); // acknowledges a rollback Tether made, or ends the transaction
                }
                try (ResultSet rs = s.executeQuery("SELECT 1")) { // no context: a leaked cancel would stop it
                    assertTrue(rs.next());
                }
            }
            c.setAutoCommit(true);
        }
    }

    private void assertContextFailure(CancellableContext ctx, SQLException e) {
        if (!ctx.isDone() || !CONTEXT_STATES.contains(e.getSQLState())) {
            fail("not a context failure: " + e + " (context done: " + ctx.isDone() + ")", e);
        }
        assertSame(ctx.err(), e.getCause());
        if (SqlStates.QUERY_CANCELLED.equals(e.getSQLState())) {
            cancelled.increment();
        } else {
            refused.increment();
        }
    }

    private void report(String what) {
        System.out.printf("[stress] %s, %d ms: %d completed, %d refused before sending, %d cancelled%n", what,
                MILLIS, completed.sum(), refused.sum(), cancelled.sum());
    }
}
