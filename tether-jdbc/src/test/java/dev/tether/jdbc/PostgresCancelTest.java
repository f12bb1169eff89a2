package dev.tether.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ContextCancelledException;
import dev.tether.DeadlineExceededException;
import dev.tether.Scope;
import dev.tether.testing.ThrowawayPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** Cancellation and refusal against a real PostgreSQL server, without a pool. */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PostgresCancelTest {

    private static ThrowawayPostgres pg;
    private static DataSource db;

    @BeforeAll
    static void setUp(ThrowawayPostgres cluster) throws SQLException {
        pg = cluster;
        db = TetherDataSource.wrap(cluster.dataSource("tether-test"));
        try (Connection c = pg.monitor(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS refused_marker");
            s.execute("CREATE TABLE refused_marker (id int)");
        }
    }

    /**
     * Five rounds, so the report shows the first (class loading, the first virtual thread, the first cancel
     * connection) apart from the rest. Each round: the statement returns within a bound, the server reports its
     * own 57014, pg_stat_activity shows the backend leave 'active', and the connection works afterwards.
     */
    @Test
    void pgSleepUnderA200MsContext_isCancelledOnTheServer_andTheBackendGoesIdle() throws Exception {
        int rounds = 5;
        double[] toIdle = new double[rounds];
        double[] toException = new double[rounds];
        for (int round = 0; round < rounds; round++) {
            try (Connection c = db.getConnection()) {
                int pid = backendPid(c);
                AtomicLong endedAt = new AtomicLong();
                AtomicLong idleAt = new AtomicLong();
                Thread watcher;
                SQLException thrown;
                long start;
                long returned;
                // The watcher connects and starts polling before the 200 ms begin, so it sees the query active.
                CountDownLatch polling = new CountDownLatch(1);
                watcher = Thread.ofVirtual().start(() -> watchUntilIdle(pid, polling, idleAt));
                assertTrue(polling.await(15, TimeUnit.SECONDS), "the watcher never polled");
                try (CancellableContext ctx = Context.background().withTimeout(Duration.ofMillis(200));
                        Scope scope = ctx.attach()) {
                    ctx.onDone(() -> endedAt.set(System.nanoTime()), Runnable::run);
                    start = System.nanoTime();
                    thrown = assertThrows(SQLException.class, () -> {
                        try (Statement s = c.createStatement()) {
                            s.executeQuery("SELECT pg_sleep(30)");
                        }
                    });
                    returned = System.nanoTime();
                }
                assertTrue(watcher.join(Duration.ofSeconds(15)), "watcher still running");

                assertEquals(SqlStates.QUERY_CANCELLED, thrown.getSQLState());
                assertInstanceOf(SQLTimeoutException.class, thrown);
                assertInstanceOf(DeadlineExceededException.class, thrown.getCause());
                assertEquals("57014", ((SQLException) thrown.getSuppressed()[0]).getSQLState(), "the server's report");
                long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(returned - start);
                assertTrue(elapsedMillis >= 190 && elapsedMillis < 5_000, "returned after " + elapsedMillis + " ms");
                assertTrue(idleAt.get() != 0, "pg_stat_activity never showed the backend leave 'active'");
                assertFalse(isActive(pid), "pg_sleep still active");
                toException[round] = (returned - endedAt.get()) / 1e6;
                toIdle[round] = (idleAt.get() - endedAt.get()) / 1e6;
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
                    assertTrue(rs.next(), "the connection works after the cancel");
                }
            }
        }
        System.out.printf("[measure] pg_sleep(30) under a 200 ms context, %d rounds: deadline -> backend no longer"
                + " 'active' in pg_stat_activity %s ms; deadline -> SQLException in the caller %s ms%n", rounds,
                Arrays.toString(round1(toIdle)), Arrays.toString(round1(toException)));
    }

    private static double[] round1(double[] values) {
        return Arrays.stream(values).map(v -> Math.round(v * 10) / 10.0).toArray();
    }

    @Test
    void cancellingTheContext_cancelsTheQuery_withTheCauseAttached() throws Exception {
        try (Connection c = db.getConnection()) {
            IllegalStateException why = new IllegalStateException("client went away");
            SQLException thrown;
            try (CancellableContext ctx = Context.background().withCancel(); Scope scope = ctx.attach()) {
                int pid = backendPid(c);
                Thread.ofVirtual().start(() -> {
                    awaitActive(pid);
                    ctx.cancel(why);
                });
                thrown = assertThrows(SQLException.class, () -> {
                    try (Statement s = c.createStatement()) {
                        s.execute("SELECT pg_sleep(30)");
                    }
                });
            }

            assertEquals(SqlStates.QUERY_CANCELLED, thrown.getSQLState());
            assertFalse(thrown instanceof SQLTimeoutException, "a cancel is not a timeout");
            ContextCancelledException err = assertInstanceOf(ContextCancelledException.class, thrown.getCause());
            assertSame(why, err.getCause());
        }
    }

    @Test
    void statementUnderADoneContext_neverReachesTheServer() throws Exception {
        long callsBefore = statementCalls("INSERT INTO refused_marker");
        SQLException thrown;
        try (Connection c = db.getConnection(); CancellableContext ctx = Context.background().withCancel()) {
            ctx.cancel();
            try (Scope scope = ctx.attach(); PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO refused_marker VALUES (1)")) {
                thrown = assertThrows(SQLException.class, ps::executeUpdate);
            }
        }

        assertEquals(SqlStates.REFUSED_CANCELLED, thrown.getSQLState());
        assertInstanceOf(ContextCancelledException.class, thrown.getCause());
        try (Connection m = pg.monitor(); Statement s = m.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM refused_marker")) {
            rs.next();
            assertEquals(0, rs.getInt(1), "the refused insert happened");
        }
        if (pg.hasPgStatStatements()) {
            assertEquals(callsBefore, statementCalls("INSERT INTO refused_marker"), "pg_stat_statements counted it");
        }
        // The same insert without a context reaches the server, and both checks see it: they can fail.
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            assertEquals(1, s.executeUpdate("INSERT INTO refused_marker VALUES (1)"));
            if (pg.hasPgStatStatements()) {
                assertEquals(callsBefore + 1, statementCalls("INSERT INTO refused_marker"));
            }
            s.executeUpdate("DELETE FROM refused_marker");
        }
    }

    @Test
    void statementWithTooLittleBudget_isRefused_beforeTheDeadline() throws Exception {
        DataSource strict = TetherDataSource.builder(pg.dataSource("tether-test"))
                .minimumBudget(Duration.ofHours(1)).build();
        long callsBefore = statementCalls("INSERT INTO refused_marker");

        SQLException thrown;
        try (Connection c = strict.getConnection();
                CancellableContext ctx = Context.background().withTimeout(Duration.ofMinutes(5));
                Scope scope = ctx.attach(); Statement s = c.createStatement()) {
            thrown = assertThrows(SQLException.class, () -> s.executeUpdate("INSERT INTO refused_marker VALUES (2)"));
            assertFalse(ctx.isDone());
        }

        assertEquals(SqlStates.REFUSED_DEADLINE, thrown.getSQLState());
        assertInstanceOf(DeadlineExceededException.class, thrown.getCause());
        assertTrue(thrown.getMessage().contains("below the minimum"), thrown.getMessage());
        if (pg.hasPgStatStatements()) {
            assertEquals(callsBefore, statementCalls("INSERT INTO refused_marker"));
        }
    }

    @Test
    void noContext_runsAsThePlainDriverWould() throws Exception {
        try (Connection c = db.getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT current_setting('statement_timeout')")) {
            assertTrue(rs.next());
            assertEquals("0", rs.getString(1));
            assertEquals(0, s.getQueryTimeout());
        }
    }

    // ---- helpers ----

    static int backendPid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    static boolean isActive(int pid) throws SQLException {
        try (Connection m = pg.monitor(); PreparedStatement ps = m.prepareStatement(
                "SELECT state FROM pg_stat_activity WHERE pid = ?")) {
            ps.setInt(1, pid);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && "active".equals(rs.getString(1));
            }
        }
    }

    /**
     * Polls pg_stat_activity until the backend is seen active, then until it is not; records when. Counts down
     * {@code polling} after its first poll.
     */
    private static void watchUntilIdle(int pid, CountDownLatch polling, AtomicLong idleAt) {
        try (Connection m = pg.monitor(); PreparedStatement ps = m.prepareStatement(
                "SELECT state FROM pg_stat_activity WHERE pid = ?")) {
            ps.setInt(1, pid);
            boolean seenActive = false;
            long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (System.nanoTime() < giveUp) {
                boolean active;
                try (ResultSet rs = ps.executeQuery()) {
                    active = rs.next() && "active".equals(rs.getString(1));
                }
                polling.countDown();
                if (active) {
                    seenActive = true;
                } else if (seenActive) {
                    idleAt.set(System.nanoTime());
                    return;
                }
            }
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    static void awaitActive(int pid) {
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        try {
            while (!isActive(pid)) {
                if (System.nanoTime() > giveUp) {
                    throw new AssertionError("backend " + pid + " never became active");
                }
                Thread.sleep(1);
            }
        } catch (SQLException | InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** How often pg_stat_statements saw statements starting with {@code prefix}; 0 without the extension. */
    static long statementCalls(String prefix) throws SQLException {
        if (!pg.hasPgStatStatements()) {
            return 0;
        }
        try (Connection m = pg.monitor(); PreparedStatement ps = m.prepareStatement(
                "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE ?")) {
            ps.setString(1, prefix + "%");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

}
