package dev.tether.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ManualTimeSource;
import dev.tether.Scope;
import dev.tether.testing.ThrowawayPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * How the budget reaches PostgreSQL: {@code SET LOCAL statement_timeout} inside a transaction, to the millisecond;
 * {@code setQueryTimeout} outside one, in whole seconds. Budgets come from a {@link ManualTimeSource}, whose clock
 * stands still, so the values are exact, and Tether's own cancel never fires: what stops a statement here is the
 * timeout the database or the driver was given.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PostgresTimeoutTest {

    private final List<String> calls = new CopyOnWriteArrayList<>();
    private final ManualTimeSource time = ManualTimeSource.create();
    private DataSource db;

    @BeforeEach
    void setUp(ThrowawayPostgres pg) {
        db = TetherDataSource.wrap(Recording.queryTimeouts(pg.dataSource("tether-test"), calls));
    }

    @Test
    void insideATransaction_theBudgetBecomesStatementTimeout_toTheMillisecond() throws SQLException {
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            try (CancellableContext ctx = Context.root(time).withTimeout(Duration.ofNanos(1_234_500_000L));
                    Scope scope = ctx.attach()) {
                assertEquals("1235ms", statementTimeout(s), "rounded up, never shorter than the budget");
                time.advance(Duration.ofMillis(200));
                assertEquals("1035ms", statementTimeout(s), "each statement gets what is left");
            }
            assertEquals("0", statementTimeout(s), "a statement without a deadline gets the session's back");
            c.commit();
            assertEquals("0", statementTimeout(s));
        }
        assertFalse(calls.stream().anyMatch(call -> call.startsWith("setQueryTimeout")), calls.toString());
    }

    @Test
    void theSessionsOwnStatementTimeout_capsTheBudget_andOutlivesTheTransaction() throws SQLException {
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            s.execute("SET statement_timeout = 800");
            c.setAutoCommit(false);
            try (CancellableContext ctx = Context.root(time).withTimeout(Duration.ofSeconds(5));
                    Scope scope = ctx.attach()) {
                assertEquals("800ms", statementTimeout(s));
            }
            try (CancellableContext ctx = Context.root(time).withTimeout(Duration.ofMillis(300));
                    Scope scope = ctx.attach()) {
                assertEquals("300ms", statementTimeout(s));
            }
            c.rollback();
            assertEquals("800ms", statementTimeout(s));
        }
    }

    @Test
    void theServerEnforcesTheStatementTimeout_whenNoCancelArrives() throws SQLException {
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            long start = System.nanoTime();
            SQLException thrown;
            try (CancellableContext ctx = Context.root(time).withTimeout(Duration.ofMillis(300));
                    Scope scope = ctx.attach()) {
                thrown = assertThrows(SQLException.class, () -> s.execute("SELECT pg_sleep(30)"));
                assertFalse(ctx.isDone(), "the manual clock never moved: only the server stopped the statement");
            }
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertEquals("57014", thrown.getSQLState());
            assertTrue(thrown.getMessage().contains("statement timeout"), thrown.getMessage());
            assertTrue(millis >= 290 && millis < 10_000, "stopped after " + millis + " ms");
            c.rollback();
        }
    }

    @Test
    void outsideATransaction_theBudgetBecomesTheQueryTimeout_inWholeSeconds_restoredAfter() throws SQLException {
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            calls.clear();
            try (CancellableContext ctx = Context.root(time).withTimeout(Duration.ofMillis(1_200));
                    Scope scope = ctx.attach()) {
                assertEquals("0", statementTimeout(s), "SET LOCAL would not last outside a transaction");
            }

            assertEquals(List.of("setQueryTimeout(2)", "execute", "setQueryTimeout(0)"), calls);
            assertEquals(0, s.getQueryTimeout());
        }
    }

    @Test
    void pgjdbcsQueryTimeout_isAClientSideTimer_thatSendsACancel() throws SQLException {
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            long start = System.nanoTime();
            SQLException thrown;
            try (CancellableContext ctx = Context.root(time).withTimeout(Duration.ofMillis(700));
                    Scope scope = ctx.attach()) {
                thrown = assertThrows(SQLException.class, () -> s.execute("SELECT pg_sleep(30)"));
                assertFalse(ctx.isDone());
            }
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertEquals("57014", thrown.getSQLState());
            assertTrue(thrown.getMessage().contains("user request"), "a cancel, not the server's timeout: "
                    + thrown.getMessage());
            assertTrue(millis >= 990 && millis < 10_000, "700 ms rounds up to 1 s; stopped after " + millis + " ms");
        }
    }

    private static String statementTimeout(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT current_setting('statement_timeout')")) {
            assertTrue(rs.next());
            return rs.getString(1);
        }
    }
}
