package dev.tether.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ContextCancelledException;
import dev.tether.DeadlineExceededException;
import dev.tether.ManualTimeSource;
import dev.tether.Scope;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransactionRollbackException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.h2.jdbc.JdbcConnection;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The in-memory path: an H2 database, no server. Deadlines run on a ManualTimeSource where timing matters. */
@Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class H2ContextTest {

    /** Runs for minutes unless cancelled; H2 checks for a cancel between rows. */
    static final String LONG_QUERY = "SELECT SUM(X) FROM SYSTEM_RANGE(1, 100000000000)";
    private static final String QUERY_TIMEOUT =
            "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = 'QUERY_TIMEOUT'";
    private static final AtomicInteger DATABASES = new AtomicInteger();

    private JdbcDataSource h2;
    private TetherDataSource db;
    private Connection keepAlive;

    @BeforeEach
    void setUp() throws SQLException {
        h2 = new JdbcDataSource();
        h2.setURL("jdbc:h2:mem:tether" + DATABASES.incrementAndGet() + ";DB_CLOSE_DELAY=-1;TRACE_LEVEL_FILE=0");
        db = TetherDataSource.wrap(h2);
        keepAlive = h2.getConnection();
        try (Statement s = keepAlive.createStatement()) {
            s.execute("CREATE TABLE items (id INT PRIMARY KEY)");
        }
    }

    @AfterEach
    void tearDown() throws SQLException {
        try (Statement s = keepAlive.createStatement()) {
            s.execute("SHUTDOWN");
        }
    }

    @Test
    void withoutAContext_statementsRunAsTheDriverRunsThem() throws SQLException {
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            assertEquals(1, s.executeUpdate("INSERT INTO items VALUES (1)"));
            try (ResultSet rs = s.executeQuery(QUERY_TIMEOUT)) {
                assertTrue(rs.next());
                assertEquals("0", rs.getString(1));
            }
        }
        assertEquals(1, rows());
    }

    @Test
    void cancelledContext_refusesTheStatement_withItsErrAndCause() throws SQLException {
        IllegalStateException why = new IllegalStateException("user left");
        SQLException thrown;
        try (Connection c = db.getConnection(); CancellableContext ctx = Context.background().withCancel()) {
            ctx.cancel(why);
            try (Scope scope = ctx.attach(); PreparedStatement ps = c.prepareStatement("INSERT INTO items VALUES (1)")) {
                thrown = assertThrows(SQLException.class, ps::executeUpdate);
            }
            assertSame(ctx.err(), thrown.getCause());
        }

        assertEquals(SqlStates.REFUSED_CANCELLED, thrown.getSQLState());
        assertFalse(thrown instanceof SQLTimeoutException);
        assertInstanceOf(ContextCancelledException.class, thrown.getCause());
        assertSame(why, thrown.getCause().getCause());
        assertTrue(thrown.getMessage().contains("not sent"), thrown.getMessage());
        assertEquals(0, rows());
    }

    @Test
    void passedDeadline_refusesTheStatement_asATimeout() throws SQLException {
        ManualTimeSource time = ManualTimeSource.create();
        SQLException thrown;
        try (Connection c = db.getConnection();
                CancellableContext ctx = Context.root(time).withTimeout(Duration.ofSeconds(1))) {
            time.advance(Duration.ofSeconds(2));
            try (Scope scope = ctx.attach(); Statement s = c.createStatement()) {
                thrown = assertThrows(SQLException.class, () -> s.execute("INSERT INTO items VALUES (1)"));
            }
            assertSame(ctx.err(), thrown.getCause());
        }

        assertInstanceOf(SQLTimeoutException.class, thrown);
        assertEquals(SqlStates.REFUSED_DEADLINE, thrown.getSQLState());
        assertInstanceOf(DeadlineExceededException.class, thrown.getCause());
        assertEquals(0, rows());
    }

    @Test
    void budgetBelowTheMinimum_isRefused_whileTheContextIsStillLive() throws SQLException {
        ManualTimeSource time = ManualTimeSource.create();
        SQLException thrown;
        try (Connection c = db.getConnection();
                CancellableContext ctx = Context.root(time).withTimeout(Duration.ofNanos(500_000));
                Scope scope = ctx.attach(); Statement s = c.createStatement()) {
            thrown = assertThrows(SQLException.class, () -> s.executeUpdate("INSERT INTO items VALUES (1)"));
            assertFalse(ctx.isDone());
        }

        assertEquals(SqlStates.REFUSED_DEADLINE, thrown.getSQLState());
        assertInstanceOf(DeadlineExceededException.class, thrown.getCause());
        assertTrue(thrown.getMessage().contains("0.5 ms left") && thrown.getMessage().contains("minimum of 1.0 ms"),
                thrown.getMessage());
        assertEquals(0, rows());
    }

    @Test
    void deadline_becomesTheQueryTimeout_roundedUpToSeconds_andIsRestoredAfter() throws SQLException {
        ManualTimeSource time = ManualTimeSource.create();
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            try (CancellableContext ctx = Context.root(time).withTimeout(Duration.ofMillis(2_500));
                    Scope scope = ctx.attach(); ResultSet rs = s.executeQuery(QUERY_TIMEOUT)) {
                assertTrue(rs.next());
                assertEquals("3000", rs.getString(1), "H2 keeps the timeout in ms; JDBC gives whole seconds");
            }

            assertEquals(0, s.getQueryTimeout());
            try (ResultSet rs = s.executeQuery(QUERY_TIMEOUT)) {
                assertTrue(rs.next());
                assertEquals("0", rs.getString(1));
            }
        }
    }

    @Test
    void shorterApplicationTimeout_isKept() throws SQLException {
        ManualTimeSource time = ManualTimeSource.create();
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            s.setQueryTimeout(1);
            try (CancellableContext ctx = Context.root(time).withTimeout(Duration.ofSeconds(30));
                    Scope scope = ctx.attach(); ResultSet rs = s.executeQuery(QUERY_TIMEOUT)) {
                assertTrue(rs.next());
                assertEquals("1000", rs.getString(1));
            }
            s.setQueryTimeout(60);
            try (CancellableContext ctx = Context.root(time).withTimeout(Duration.ofSeconds(5));
                    Scope scope = ctx.attach(); ResultSet rs = s.executeQuery(QUERY_TIMEOUT)) {
                assertTrue(rs.next());
                assertEquals("5000", rs.getString(1), "the budget is shorter than the application's 60 s");
            }
            assertEquals(60, s.getQueryTimeout());
        }
    }

    @Test
    void cancellingTheContext_cancelsARunningQuery() throws Exception {
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            SQLException thrown;
            try (CancellableContext ctx = Context.background().withCancel(); Scope scope = ctx.attach()) {
                Thread.ofVirtual().start(() -> {
                    awaitRunning(LONG_QUERY);
                    ctx.cancel();
                });
                thrown = assertThrows(SQLException.class, () -> s.executeQuery(LONG_QUERY));
            }

            assertEquals(SqlStates.QUERY_CANCELLED, thrown.getSQLState());
            assertInstanceOf(ContextCancelledException.class, thrown.getCause());
            assertEquals(1, thrown.getSuppressed().length, "H2's own exception");
            try (ResultSet rs = s.executeQuery("SELECT 1")) {
                assertTrue(rs.next(), "the connection works after the cancel");
            }
        }
    }

    @Test
    void deadline_cancelsARunningQuery_evenWithoutADriverTimeout() throws Exception {
        TetherDataSource cancelOnly = TetherDataSource.builder(h2).timeoutMode(TimeoutMode.CANCEL_ONLY).build();
        try (Connection c = cancelOnly.getConnection(); Statement s = c.createStatement()) {
            long start = System.nanoTime();
            SQLException thrown;
            try (CancellableContext ctx = Context.background().withTimeout(Duration.ofMillis(100));
                    Scope scope = ctx.attach()) {
                thrown = assertThrows(SQLException.class, () -> s.executeQuery(LONG_QUERY));
            }
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertInstanceOf(SQLTimeoutException.class, thrown);
            assertEquals(SqlStates.QUERY_CANCELLED, thrown.getSQLState());
            assertInstanceOf(DeadlineExceededException.class, thrown.getCause());
            assertTrue(millis >= 90 && millis < 10_000, "returned after " + millis + " ms");
        }
    }

    @Test
    void transactionWhoseContextEnds_isRolledBack_andTheConnectionSaysSoUntilRollback() throws SQLException {
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            try (CancellableContext ctx = Context.background().withCancel(); Scope scope = ctx.attach()) {
                s.executeUpdate("INSERT INTO items VALUES (1)");
                ctx.cancel();
                SQLException refused = assertThrows(SQLException.class,
                        () -> s.executeUpdate("INSERT INTO items VALUES (2)"));
                assertEquals(SqlStates.REFUSED_CANCELLED, refused.getSQLState());
            }

            assertEquals(0, rowsSeenBy(c), "the first insert was rolled back");
            SQLException later = assertThrows(SQLTransactionRollbackException.class,
                    () -> s.executeUpdate("INSERT INTO items VALUES (3)"));
            assertEquals(SqlStates.TRANSACTION_ROLLED_BACK, later.getSQLState());
            assertInstanceOf(ContextCancelledException.class, later.getCause());
            c.rollback();
            s.executeUpdate("INSERT INTO items VALUES (4)");
            c.commit();
        }
        assertEquals(1, rows());
    }

    @Test
    void commit_afterTheTransactionsContextEnded_rollsBackAndThrows() throws SQLException {
        ManualTimeSource time = ManualTimeSource.create();
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            try (CancellableContext ctx = Context.root(time).withTimeout(Duration.ofSeconds(1));
                    Scope scope = ctx.attach()) {
                s.executeUpdate("INSERT INTO items VALUES (1)");
                time.advance(Duration.ofSeconds(1));
                SQLException thrown = assertThrows(SQLTransactionRollbackException.class, c::commit);
                assertEquals(SqlStates.TRANSACTION_ROLLED_BACK, thrown.getSQLState());
                assertSame(ctx.err(), thrown.getCause());
            }
            assertEquals(0, rowsSeenBy(c));
            s.executeUpdate("INSERT INTO items VALUES (2)");
            c.commit();
        }
        assertEquals(1, rows());
    }

    @Test
    void setAutoCommitTrue_afterTheTransactionsContextEnded_doesNotCommit() throws SQLException {
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            try (CancellableContext ctx = Context.background().withCancel(); Scope scope = ctx.attach()) {
                s.executeUpdate("INSERT INTO items VALUES (1)");
                ctx.cancel();
                SQLException thrown = assertThrows(SQLTransactionRollbackException.class, () -> c.setAutoCommit(true));
                assertEquals(SqlStates.TRANSACTION_ROLLED_BACK, thrown.getSQLState());
            }
            assertTrue(c.getAutoCommit());
        }
        assertEquals(0, rows());
    }

    @Test
    void transactionWhoseStatementsFinishedInTime_commitsAfterTheirContextsEnded() throws SQLException {
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            try (CancellableContext first = Context.background().withTimeout(Duration.ofMinutes(1));
                    Scope scope = first.attach()) {
                s.executeUpdate("INSERT INTO items VALUES (1)");
            }
            try (CancellableContext second = Context.background().withCancel(); Scope scope = second.attach()) {
                s.executeUpdate("INSERT INTO items VALUES (2)");
            }
            c.commit(); // both contexts are closed (cancelled) by now; the work they did was complete
        }
        assertEquals(2, rows());
    }

    @Test
    void closingUnderADoneContext_rollsBackTheOpenTransaction_beforeThePoolOrDriverSeesIt() throws SQLException {
        List<String> calls = new CopyOnWriteArrayList<>();
        Connection c = TetherDataSource.wrap(Recording.queryTimeouts(h2, calls)).getConnection();
        try (Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.executeUpdate("INSERT INTO items VALUES (1)");
        }
        try (CancellableContext ctx = Context.background().withCancel(); Scope scope = ctx.attach()) {
            ctx.cancel();
            c.close();
        }

        assertEquals(List.of("execute", "rollback", "close"), calls);
        assertEquals(0, rows());
    }

    @Test
    void transactionWithALiveContext_commitsNormally() throws SQLException {
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            try (CancellableContext ctx = Context.background().withTimeout(Duration.ofMinutes(1));
                    Scope scope = ctx.attach()) {
                s.executeUpdate("INSERT INTO items VALUES (1)");
                c.commit();
            }
            s.executeUpdate("INSERT INTO items VALUES (2)"); // the next transaction, without a context
            c.commit();
        }
        assertEquals(2, rows());
    }

    @Test
    void getConnection_underADoneContext_isRefusedWithoutAskingTheDelegate() throws SQLException {
        AtomicInteger opened = new AtomicInteger();
        TetherDataSource counting = TetherDataSource.wrap(Recording.countingConnections(h2, opened));
        try (CancellableContext ctx = Context.background().withCancel(); Scope scope = ctx.attach()) {
            ctx.cancel();
            SQLException thrown = assertThrows(SQLException.class, counting::getConnection);
            assertEquals(SqlStates.REFUSED_CANCELLED, thrown.getSQLState());
            assertSame(ctx.err(), thrown.getCause());
            assertThrows(SQLException.class, () -> counting.createConnectionBuilder().build());
        }
        assertEquals(0, opened.get());
        try (Connection c = counting.getConnection()) {
            assertTrue(c.isValid(1));
        }
        assertEquals(1, opened.get());
    }

    @Test
    void unwrapAndIsWrapperFor_answerForTheWrapperFirst_thenTheDriver() throws SQLException {
        assertSame(db, db.unwrap(TetherDataSource.class));
        assertSame(h2, db.unwrap(JdbcDataSource.class));
        assertTrue(db.isWrapperFor(JdbcDataSource.class));
        assertFalse(db.isWrapperFor(String.class));
        assertThrows(SQLException.class, () -> db.unwrap(String.class));

        try (Connection c = db.getConnection(); Statement s = c.createStatement();
                PreparedStatement ps = c.prepareStatement("SELECT 1"); CallableStatement cs = c.prepareCall("CALL 1")) {
            assertSame(c, c.unwrap(Connection.class));
            JdbcConnection raw = c.unwrap(JdbcConnection.class);
            assertNotSame(c, raw);
            assertTrue(c.isWrapperFor(JdbcConnection.class));
            assertFalse(c.isWrapperFor(String.class));

            assertSame(c, s.getConnection());
            assertSame(c, ps.getConnection());
            assertSame(c, cs.getConnection());
            assertSame(s, s.unwrap(Statement.class));
            assertSame(ps, ps.unwrap(PreparedStatement.class));
            assertSame(cs, cs.unwrap(CallableStatement.class));
            assertTrue(ps.isWrapperFor(org.h2.jdbc.JdbcPreparedStatement.class));
            assertTrue(cs.unwrap(org.h2.jdbc.JdbcCallableStatement.class) instanceof CallableStatement);
        }
    }

    @Test
    void callableStatement_isGuardedToo() throws SQLException {
        try (Connection c = db.getConnection(); CallableStatement cs = c.prepareCall("CALL 1");
                CancellableContext ctx = Context.background().withCancel(); Scope scope = ctx.attach()) {
            assertTrue(cs.execute());
            ctx.cancel();
            SQLException thrown = assertThrows(SQLException.class, cs::execute);
            assertEquals(SqlStates.REFUSED_CANCELLED, thrown.getSQLState());
        }
    }

    @Test
    void batches_areGuarded() throws SQLException {
        try (Connection c = db.getConnection(); Statement s = c.createStatement();
                PreparedStatement ps = c.prepareStatement("INSERT INTO items VALUES (?)")) {
            ps.setInt(1, 1);
            ps.addBatch();
            s.addBatch("INSERT INTO items VALUES (2)");
            try (CancellableContext ctx = Context.background().withCancel(); Scope scope = ctx.attach()) {
                ctx.cancel();
                assertEquals(SqlStates.REFUSED_CANCELLED,
                        assertThrows(SQLException.class, ps::executeBatch).getSQLState());
                assertEquals(SqlStates.REFUSED_CANCELLED,
                        assertThrows(SQLException.class, s::executeLargeBatch).getSQLState());
            }
            assertEquals(1, ps.executeBatch().length);
        }
        assertEquals(1, rows());
    }

    @Test
    void builder_rejectsBadSettings_namingThem() {
        NullPointerException noSource = assertThrows(NullPointerException.class, () -> TetherDataSource.wrap(null));
        assertEquals("dataSource", noSource.getMessage());
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> TetherDataSource.wrap(db));
        assertTrue(twice.getMessage().startsWith("dataSource: already a TetherDataSource"), twice.getMessage());
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> TetherDataSource.builder(h2).minimumBudget(Duration.ofMillis(-1)));
        assertEquals("minimumBudget: PT-0.001S (expected: >= 0)", negative.getMessage());
        assertEquals("timeoutMode", assertThrows(NullPointerException.class,
                () -> TetherDataSource.builder(h2).timeoutMode(null)).getMessage());
    }

    // ---- helpers ----

    private int rows() throws SQLException {
        return rowsSeenBy(keepAlive);
    }

    private static int rowsSeenBy(Connection c) throws SQLException {
        Connection raw = c.isWrapperFor(JdbcConnection.class) ? c.unwrap(JdbcConnection.class) : c;
        try (Statement s = raw.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM items")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** Polls H2's session list until some session runs {@code sql}. */
    private void awaitRunning(String sql) {
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        try (Connection m = h2.getConnection(); PreparedStatement ps = m.prepareStatement(
                "SELECT COUNT(*) FROM INFORMATION_SCHEMA.SESSIONS WHERE EXECUTING_STATEMENT = ?")) {
            ps.setString(1, sql);
            while (System.nanoTime() < giveUp) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getInt(1) > 0) {
                        return;
                    }
                }
                Thread.sleep(1);
            }
            throw new AssertionError("never saw " + sql + " running");
        } catch (SQLException | InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
