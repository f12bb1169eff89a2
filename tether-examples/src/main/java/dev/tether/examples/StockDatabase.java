package dev.tether.examples;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tether.Context;
import dev.tether.Registration;
import dev.tether.jdbc.TetherDataSource;
import dev.tether.testing.ThrowawayPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongConsumer;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.jspecify.annotations.Nullable;

/**
 * The last hop's database: a {@code stock} table on PostgreSQL, or on H2 in memory when PostgreSQL cannot be had,
 * reached through a HikariCP pool wrapped in tether-jdbc's {@link TetherDataSource}: every statement runs under
 * the current context, with its remaining budget as timeout, and is cancelled when the context ends. A separate
 * plain connection watches the server's own view ({@code pg_stat_activity}, or H2's {@code SESSIONS}) to show
 * when a cancelled statement is really gone.
 */
final class StockDatabase implements AutoCloseable {

    enum Kind { POSTGRESQL, H2 }

    static final String SKU = "book";
    private static final int STOCK = 1_000;
    private static final Duration WATCH_BOUND = Duration.ofSeconds(10);
    private static final AtomicInteger H2_DATABASES = new AtomicInteger();

    private static final String PG_RESERVE = "UPDATE stock SET available = available - 1 FROM pg_sleep(?)"
            + " WHERE sku = ? AND available > 0 RETURNING available";
    // H2 checks for a cancel between rows: the subquery sleeps a millisecond per row, over one row per millisecond.
    private static final String H2_RESERVE = "UPDATE stock SET available = available - 1 WHERE sku = ?"
            + " AND available > 0 AND (SELECT COUNT(*) FROM SYSTEM_RANGE(1, ?) WHERE SLEEP_MS(1) = 0) >= 0";
    private static final String H2_LEFT = "SELECT available FROM stock WHERE sku = ?";

    private final Kind kind;
    private final String description;
    private final HikariDataSource pool;
    private final DataSource db;
    // A plain connection, never under a context: schema set-up and the activity watch. Guarded by itself.
    private final Connection monitor;

    private StockDatabase(Kind kind, String description, DataSource raw, Connection monitor) {
        this.kind = kind;
        this.description = description;
        this.monitor = monitor;
        HikariConfig config = new HikariConfig();
        config.setPoolName("inventory-db");
        config.setDataSource(raw);
        config.setMaximumPoolSize(4);
        config.setConnectionTimeout(5_000);
        this.pool = new HikariDataSource(config);
        this.db = TetherDataSource.wrap(pool);
    }

    /** The stock table on {@code pg}, which the caller keeps running and stops after closing this. */
    static StockDatabase postgres(ThrowawayPostgres pg) throws SQLException {
        Connection monitor = pg.monitor();
        try {
            String version;
            try (Statement s = monitor.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS stock (sku text PRIMARY KEY,"
                        + " available integer NOT NULL CHECK (available >= 0))");
                s.execute("INSERT INTO stock VALUES ('" + SKU + "', " + STOCK + ")"
                        + " ON CONFLICT (sku) DO UPDATE SET available = EXCLUDED.available");
                try (ResultSet rs = s.executeQuery("SELECT current_setting('server_version')")) {
                    rs.next();
                    version = rs.getString(1).split(" ")[0];
                }
            }
            return new StockDatabase(Kind.POSTGRESQL, "PostgreSQL " + version + " on " + pg.host() + ":" + pg.port()
                    + " (a throwaway cluster)", pg.dataSource("inventory"), monitor);
        } catch (SQLException | RuntimeException e) {
            monitor.close();
            throw e;
        }
    }

    /** The stock table on a new H2 database in memory, gone when this is closed. */
    static StockDatabase h2() throws SQLException {
        JdbcDataSource raw = new JdbcDataSource();
        raw.setURL("jdbc:h2:mem:inventory-" + H2_DATABASES.incrementAndGet());
        raw.setUser("sa");
        Connection monitor = raw.getConnection();   // keeps the in-memory database alive until close()
        try (Statement s = monitor.createStatement()) {
            s.execute("CREATE TABLE stock (sku VARCHAR(32) PRIMARY KEY, available INTEGER NOT NULL)");
            s.execute("INSERT INTO stock VALUES ('" + SKU + "', " + STOCK + ")");
            s.execute("CREATE ALIAS SLEEP_MS FOR '" + H2Sleep.class.getName() + ".sleepMillis'");
            String version = monitor.getMetaData().getDatabaseProductVersion().split(" ")[0];
            return new StockDatabase(Kind.H2, "H2 " + version + " in memory", raw, monitor);
        } catch (SQLException | RuntimeException e) {
            monitor.close();
            throw e;
        }
    }

    Kind kind() {
        return kind;
    }

    /** The database, for the demo's header: product, version, where. */
    String description() {
        return description;
    }

    /** The slow statement as the report shows it. */
    String statement(Order order) {
        return kind == Kind.POSTGRESQL
                ? "UPDATE stock ... FROM pg_sleep(" + order.delaySeconds() + ")"
                : "UPDATE stock ... SLEEP_MS(1) x " + order.delaySeconds() * 1000 + " rows";
    }

    /**
     * Reserves one unit of the order's sku under the current context, in a transaction whose statement takes the
     * order's delay on the server. Calls {@code sending} with the connection's backend id just before the
     * statement is sent. Never throws for a database failure: the outcome says what happened.
     */
    QueryOutcome reserve(Order order, LongConsumer sending) {
        String statement = statement(order);
        CompletableFuture<QueryOutcome.@Nullable Gone> gone = new CompletableFuture<>();
        long start = System.nanoTime();
        long backend = -1;
        Context ctx = Context.current();
        // When the context's deadline passes: PostgreSQL's statement_timeout (SET LOCAL) fires at that moment too.
        long deadline = ctx.remaining().map(r -> start + r.toNanos()).orElse(Long.MAX_VALUE);
        AtomicBoolean watching = new AtomicBoolean();
        Registration watch = null;
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            backend = backendId(c);
            long id = backend;
            // Inline, on the thread that ends the context: the moment tether-jdbc's own cancel starts too.
            watch = ctx.onDone(() -> watch(id, deadline, watching, gone), Runnable::run);
            sending.accept(backend);
            int left = kind == Kind.POSTGRESQL ? reservePostgres(c, order) : reserveH2(c, order);
            c.commit();
            return new QueryOutcome(statement, backend, true, left < 0 ? "sold out" : "1 reserved, " + left + " left",
                    Duration.ofNanos(System.nanoTime() - start), gone);
        } catch (SQLException e) {
            return new QueryOutcome(statement, backend, false, describe(e), Duration.ofNanos(System.nanoTime() - start),
                    gone);
        } finally {
            if (watch == null || watch.stop() && !ctx.isDone()) {
                gone.complete(null);   // the context did not end while the statement ran
            } else if (!watching.get() && ctx.isDone()) {
                // It ended as the statement failed, before the thread ending it got to the watch: start it here.
                watch(backend, deadline, watching, gone);
            }
        }
    }

    private static int reservePostgres(Connection c, Order order) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(PG_RESERVE)) {
            ps.setInt(1, order.delaySeconds());
            ps.setString(2, order.sku());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getInt(1) : -1;
            }
        }
    }

    private static int reserveH2(Connection c, Order order) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(H2_RESERVE)) {
            ps.setString(1, order.sku());
            ps.setInt(2, order.delaySeconds() * 1000);
            if (ps.executeUpdate() == 0) {
                return -1;
            }
        }
        try (PreparedStatement ps = c.prepareStatement(H2_LEFT)) {
            ps.setString(1, order.sku());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getInt(1) : -1;
            }
        }
    }

    private long backendId(Connection c) throws SQLException {
        String sql = kind == Kind.POSTGRESQL ? "SELECT pg_backend_pid()" : "SELECT SESSION_ID()";
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** SQLState and the first line of the message (tether-jdbc's says which context error stopped it). */
    private static String describe(SQLException e) {
        String message = String.valueOf(e.getMessage());
        int newline = message.indexOf('\n');
        return "SQLState " + e.getSQLState() + " (" + (newline < 0 ? message : message.substring(0, newline)) + ")";
    }

    // ---- watching the server ----

    /**
     * Called once the statement's context has ended: polls the server, on a thread of its own, until it no longer
     * runs the statement. The cancel is the deadline if it has passed, else now.
     */
    private void watch(long backend, long deadline, AtomicBoolean watching,
            CompletableFuture<QueryOutcome.@Nullable Gone> gone) {
        long now = System.nanoTime();
        long cancelled = deadline - now <= 0 ? deadline : now;
        if (watching.compareAndSet(false, true)) {
            Thread.ofVirtual().name("inventory-db-watch").start(() -> gone.complete(poll(backend, cancelled)));
        }
    }

    private QueryOutcome.Gone poll(long backend, long cancelledNanos) {
        long bound = cancelledNanos + WATCH_BOUND.toNanos();
        try {
            while (System.nanoTime() - bound < 0) {
                String state = activity(backend);
                if (!"active".equals(state)) {
                    return new QueryOutcome.Gone(cancelledNanos, System.nanoTime(), state == null ? "gone" : state);
                }
                LockSupport.parkNanos(1_000_000);
            }
            return new QueryOutcome.Gone(cancelledNanos, QueryOutcome.Gone.STILL_RUNNING, "active");
        } catch (SQLException e) {
            return new QueryOutcome.Gone(cancelledNanos, QueryOutcome.Gone.STILL_RUNNING,
                    "unknown (" + e.getMessage() + ")");
        }
    }

    /** The connection's state as the server sees it: "active" while it runs a statement; null if it is gone. */
    private @Nullable String activity(long backend) throws SQLException {
        String sql = kind == Kind.POSTGRESQL ? "SELECT state FROM pg_stat_activity WHERE pid = ?"
                : "SELECT CASE WHEN EXECUTING_STATEMENT IS NULL THEN 'idle' ELSE 'active' END"
                        + " FROM INFORMATION_SCHEMA.SESSIONS WHERE SESSION_ID = ?";
        synchronized (monitor) {
            try (PreparedStatement ps = monitor.prepareStatement(sql)) {
                ps.setLong(1, backend);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        }
    }

    @Override
    public void close() throws SQLException {
        pool.close();
        synchronized (monitor) {
            monitor.close();
        }
    }
}
