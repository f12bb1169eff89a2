package dev.tether.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
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
import java.sql.SQLTransactionRollbackException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Tether with HikariCP on a real PostgreSQL, both ways round: Tether's DataSource around Hikari's, and Hikari's
 * pool around Tether's. Transactions whose context ends are rolled back and the pool's next borrower gets the same
 * connection clean; a pool exhausted by hung queries recovers as soon as their requests are cancelled.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PostgresPoolTest {

    enum Setup { TETHER_AROUND_HIKARI, HIKARI_AROUND_TETHER }

    private static final AtomicInteger POOLS = new AtomicInteger();
    private static ThrowawayPostgres pg;

    @BeforeAll
    static void setUp(ThrowawayPostgres cluster) throws SQLException {
        pg = cluster;
        try (Connection c = pg.monitor(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS pool_items");
            s.execute("CREATE TABLE pool_items (id int)");
        }
    }

    /** A Hikari pool and the DataSource the application uses, Tether on the outside or the inside. */
    record Pool(HikariDataSource hikari, DataSource db) implements AutoCloseable {
        static Pool open(Setup setup, int size) {
            HikariConfig config = new HikariConfig();
            config.setPoolName("tether-" + setup + "-" + POOLS.incrementAndGet());
            config.setMaximumPoolSize(size);
            config.setMinimumIdle(size);
            config.setConnectionTimeout(30_000);
            if (setup == Setup.TETHER_AROUND_HIKARI) {
                config.setJdbcUrl(pg.jdbcUrl("tether-test"));
                HikariDataSource hikari = new HikariDataSource(config);
                return new Pool(hikari, TetherDataSource.wrap(hikari));
            }
            config.setDataSource(TetherDataSource.wrap(pg.dataSource("tether-test")));
            HikariDataSource hikari = new HikariDataSource(config);
            return new Pool(hikari, hikari);
        }

        HikariPoolMXBean stats() {
            return hikari.getHikariPoolMXBean();
        }

        @Override
        public void close() {
            hikari.close();
        }
    }

    @ParameterizedTest
    @EnumSource(Setup.class)
    void statementCancelledInATransaction_rollsItBack_andTheNextBorrowerGetsTheConnectionClean(Setup setup)
            throws Exception {
        deleteRows();
        try (Pool pool = Pool.open(setup, 1)) {
            int pid;
            SQLException thrown;
            try (Connection c = pool.db().getConnection(); Statement s = c.createStatement()) {
                pid = PostgresCancelTest.backendPid(c);
                c.setAutoCommit(false);
                try (CancellableContext ctx = Context.background().withTimeout(Duration.ofMillis(300));
                        Scope scope = ctx.attach()) {
                    s.executeUpdate("INSERT INTO pool_items VALUES (1)");
                    thrown = assertThrows(SQLException.class, () -> s.execute("SELECT pg_sleep(30)"));
                }
                // the application neither rolls back nor resets anything
            }

            assertEquals(SqlStates.QUERY_CANCELLED, thrown.getSQLState());
            assertInstanceOf(DeadlineExceededException.class, thrown.getCause());
            assertNextBorrowerClean(pool, pid);
        }
    }

    @ParameterizedTest
    @EnumSource(Setup.class)
    void contextEndingBetweenStatements_makesCommitRollBack_andTheNextBorrowerGetsTheConnectionClean(Setup setup)
            throws Exception {
        deleteRows();
        try (Pool pool = Pool.open(setup, 1)) {
            int pid;
            try (Connection c = pool.db().getConnection(); Statement s = c.createStatement()) {
                pid = PostgresCancelTest.backendPid(c);
                c.setAutoCommit(false);
                try (CancellableContext ctx = Context.background().withTimeout(Duration.ofMinutes(1));
                        Scope scope = ctx.attach()) {
                    s.executeUpdate("INSERT INTO pool_items VALUES (1)"); // under SET LOCAL statement_timeout
                    ctx.cancel();
                    SQLException thrown = assertThrows(SQLTransactionRollbackException.class, c::commit);
                    assertEquals(SqlStates.TRANSACTION_ROLLED_BACK, thrown.getSQLState());
                    assertInstanceOf(ContextCancelledException.class, thrown.getCause());
                }
            }

            assertNextBorrowerClean(pool, pid);
        }
    }

    @ParameterizedTest
    @EnumSource(Setup.class)
    void closingUnderADoneContext_leavesNoTransactionBehind(Setup setup) throws Exception {
        deleteRows();
        try (Pool pool = Pool.open(setup, 1)) {
            int pid;
            try (CancellableContext ctx = Context.background().withTimeout(Duration.ofMinutes(1));
                    Scope scope = ctx.attach()) {
                try (Connection c = pool.db().getConnection(); Statement s = c.createStatement()) {
                    pid = PostgresCancelTest.backendPid(c);
                    c.setAutoCommit(false);
                    s.executeUpdate("INSERT INTO pool_items VALUES (1)");
                    ctx.cancel();
                }
            }

            assertNextBorrowerClean(pool, pid);
        }
    }

    /**
     * Seed 002's trap: a pool of 10, 50 requests whose queries hang (10 running pg_sleep, 40 waiting for a
     * connection). Cancelling the requests frees the pool at once: every request returns with its context's err,
     * a fresh query runs, the pool's active count is back to 0 and no pg_sleep is left on the server.
     */
    @ParameterizedTest
    @EnumSource(Setup.class)
    void exhaustedPool_recoversAtOnce_whenTheHungRequestsAreCancelled(Setup setup) throws Exception {
        int poolSize = 10;
        int requests = 50;
        try (Pool pool = Pool.open(setup, poolSize);
                ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
                CancellableContext server = Context.background().withCancel()) {
            List<Future<?>> calls = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                CancellableContext request = server.withCancel();
                calls.add(threads.submit(() -> {
                    try (request; Scope scope = request.attach(); Connection c = pool.db().getConnection();
                            Statement s = c.createStatement()) {
                        s.execute("SELECT pg_sleep(30)");
                    }
                    return null;
                }));
            }
            awaitCondition("10 pg_sleep running", () -> sleepingBackends() == poolSize);
            awaitCondition("40 requests waiting for a connection",
                    () -> pool.stats().getThreadsAwaitingConnection() == requests - poolSize);

            long cancelledAt = System.nanoTime();
            server.cancel();
            Map<String, Integer> outcomes = new TreeMap<>();
            for (Future<?> call : calls) {
                try {
                    call.get(30, TimeUnit.SECONDS);
                    fail("a request finished its 30 s sleep");
                } catch (ExecutionException e) {
                    SQLException sql = assertInstanceOf(SQLException.class, e.getCause());
                    assertInstanceOf(ContextCancelledException.class, sql.getCause(), sql.toString());
                    outcomes.merge(sql.getSQLState(), 1, Integer::sum);
                }
            }
            long allReturned = System.nanoTime();
            try (Connection c = pool.db().getConnection(); Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT 1")) {
                assertTrue(rs.next());
            }
            long freshQueryDone = System.nanoTime();
            awaitCondition("the pool's active count back to 0", () -> pool.stats().getActiveConnections() == 0);
            long activeZero = System.nanoTime();

            assertEquals(Map.of(SqlStates.QUERY_CANCELLED, poolSize, SqlStates.REFUSED_CANCELLED, requests - poolSize),
                    outcomes, "10 queries cancelled on the server, 40 requests never sent anything");
            assertEquals(0, sleepingBackends());
            assertEquals(0, pool.stats().getThreadsAwaitingConnection());
            assertEquals(poolSize, pool.stats().getTotalConnections(), "no connection was broken by the cancels");
            double allMs = (allReturned - cancelledAt) / 1e6;
            double freshMs = (freshQueryDone - cancelledAt) / 1e6;
            assertTrue(freshMs < 10_000, "fresh query " + freshMs + " ms after the cancel");
            System.out.printf("[measure] %s: pool of %d, %d hung requests cancelled: all returned after %.1f ms,"
                    + " a fresh query done after %.1f ms, active connections 0 after %.1f ms%n", setup, poolSize,
                    requests, allMs, freshMs, (activeZero - cancelledAt) / 1e6);
        }
    }

    // ---- helpers ----

    private static void assertNextBorrowerClean(Pool pool, int pid) throws SQLException {
        try (Connection next = pool.db().getConnection(); Statement s = next.createStatement()) {
            assertEquals(pid, PostgresCancelTest.backendPid(next), "a pool of one hands out the same connection");
            assertTrue(next.getAutoCommit());
            assertEquals("idle", serverState(pid), "no transaction open on the server");
            try (ResultSet rs = s.executeQuery("SHOW statement_timeout")) {
                assertTrue(rs.next());
                assertEquals("0", rs.getString(1), "no statement_timeout left over");
            }
            assertEquals(0, rows(), "the transaction's insert was rolled back");
            next.setAutoCommit(false); // the connection takes a new transaction without complaint
            s.executeUpdate("INSERT INTO pool_items VALUES (2)");
            next.commit();
            assertEquals(1, rows());
        }
    }

    private static String serverState(int pid) throws SQLException {
        try (Connection m = pg.monitor(); PreparedStatement ps = m.prepareStatement(
                "SELECT state FROM pg_stat_activity WHERE pid = ?")) {
            ps.setInt(1, pid);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), "backend " + pid + " gone");
                return rs.getString(1);
            }
        }
    }

    private static int rows() throws SQLException {
        try (Connection m = pg.monitor(); Statement s = m.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM pool_items")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static void deleteRows() throws SQLException {
        try (Connection m = pg.monitor(); Statement s = m.createStatement()) {
            s.execute("DELETE FROM pool_items");
        }
    }

    private static int sleepingBackends() {
        try (Connection m = pg.monitor(); Statement s = m.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = 'SELECT pg_sleep(30)'")) {
            rs.next();
            return rs.getInt(1);
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    private static void awaitCondition(String what, BooleanSupplier condition) throws InterruptedException {
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > giveUp) {
                fail("not within 20 s: " + what);
            }
            Thread.sleep(2);
        }
    }
}
