package dev.tether.jdbc;

import dev.tether.Context;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.ConnectionBuilder;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * A {@link DataSource} whose statements follow the current {@link Context}: JDBC's answer to Go's
 * {@code db.QueryContext(ctx, …)}. Every {@code execute…} on its connections' statements, while a context is
 * current ({@link Context#current()}):
 * <ul>
 *   <li>is <b>refused before anything is sent</b> when the context is done, or when less than the
 *       {@linkplain Builder#minimumBudget minimum budget} is left before its deadline
 *       ({@link SqlStates#REFUSED_CANCELLED}, {@link SqlStates#REFUSED_DEADLINE});</li>
 *   <li>gets the <b>remaining budget as its timeout</b>, as {@link TimeoutMode} says: on PostgreSQL inside a
 *       transaction {@code SET LOCAL statement_timeout}, to the millisecond; otherwise
 *       {@link java.sql.Statement#setQueryTimeout}, rounded up to whole seconds;</li>
 *   <li>is <b>cancelled</b> with {@link java.sql.Statement#cancel()} the moment the context ends, and then throws an
 *       {@link java.sql.SQLException} ({@link SqlStates#QUERY_CANCELLED}) whose cause is the context's
 *       {@link Context#err() err()} (itself caused by {@link Context#cause() cause()}).</li>
 * </ul>
 * A transaction used under a context that has ended is rolled back, on the connection's own thread: when a
 * statement in it is refused or cancelled, or when {@code commit()} or {@code setAutoCommit(true)} (which then
 * throw {@link SqlStates#TRANSACTION_ROLLED_BACK}) or {@code close()} is called under the done context. The
 * connection goes back to its pool without an open transaction or a leftover timeout. {@code getConnection} is
 * refused under a done context, and a wait for a connection (a pool's queue) is interrupted when the context ends.
 *
 * {@snippet :
 * HikariConfig config = new HikariConfig();
 * config.setJdbcUrl("jdbc:postgresql://db/app");
 * DataSource db = TetherDataSource.wrap(new HikariDataSource(config));   // or: config.setDataSource(wrap(pgDs))
 *
 * try (CancellableContext call = Context.current().withTimeout(Duration.ofMillis(300));
 *      Scope scope = call.attach();
 *      Connection c = db.getConnection();
 *      PreparedStatement ps = c.prepareStatement("SELECT * FROM orders WHERE id = ?")) {
 *     ps.setLong(1, id);
 *     try (ResultSet rs = ps.executeQuery()) { … }        // at most ~300 ms, then cancelled on the server
 * }
 * }
 *
 * <p>It works both around a pool ({@code wrap(hikariDataSource)}: a wrapper per borrowed connection) and under
 * one ({@code hikariConfig.setDataSource(wrap(driverDataSource))}: the pool keeps the wrapped connections).
 *
 * <p><b>Cost.</b> With no context current ({@link Context#background()}), an execute costs a thread-local read,
 * two comparisons and a field write, and allocates nothing. Under a context it also registers one {@code onDone} action for the
 * statement's duration; with a deadline it sets and restores the timeout (on PostgreSQL in a transaction: one
 * extra round trip).
 *
 * <p><b>Not covered.</b> Rows fetched later through a {@link java.sql.ResultSet} (a cursor with a fetch size) are
 * not timed by the context; {@code commit()} is checked but not cancelled; {@code ResultSet.getStatement()} and
 * {@code DatabaseMetaData.getConnection()} return the driver's objects, and anything reached through
 * {@code unwrap} bypasses Tether. End transactions with {@code commit()}/{@code rollback()}, not with SQL text, so
 * that Tether sees where they end (PostgreSQL's {@code SET LOCAL} bookkeeping depends on it).
 */
public final class TetherDataSource implements DataSource {

    private static final long DEFAULT_MINIMUM_BUDGET_NANOS = 1_000_000L;

    private final DataSource delegate;
    private final long minimumBudgetNanos;
    private final TimeoutMode mode;
    /** AUTO's answer, found from the first connection: written once (a benign race), read by any thread. */
    private volatile @Nullable Boolean postgres;

    private TetherDataSource(DataSource delegate, long minimumBudgetNanos, TimeoutMode mode) {
        this.delegate = delegate;
        this.minimumBudgetNanos = minimumBudgetNanos;
        this.mode = mode;
        this.postgres = switch (mode) {
            case POSTGRESQL -> Boolean.TRUE;
            case AUTO -> null;
            case QUERY_TIMEOUT, CANCEL_ONLY -> Boolean.FALSE;
        };
    }

    /** Wraps {@code dataSource} with the defaults: a minimum budget of 1 ms and {@link TimeoutMode#AUTO}. */
    public static TetherDataSource wrap(DataSource dataSource) {
        return builder(dataSource).build();
    }

    /** A builder for a wrapper of {@code dataSource} with other settings. */
    public static Builder builder(DataSource dataSource) {
        Objects.requireNonNull(dataSource, "dataSource");
        if (dataSource instanceof TetherDataSource) {
            throw new IllegalArgumentException("dataSource: already a TetherDataSource (wrapping twice would register"
                    + " and time every statement twice)");
        }
        return new Builder(dataSource);
    }

    /** Settings for {@link TetherDataSource#builder}. */
    public static final class Builder {
        private final DataSource dataSource;
        private long minimumBudgetNanos = DEFAULT_MINIMUM_BUDGET_NANOS;
        private TimeoutMode mode = TimeoutMode.AUTO;

        private Builder(DataSource dataSource) {
            this.dataSource = dataSource;
        }

        /**
         * Statements (and connection requests) with less than this left before the context's deadline are refused
         * without being sent, since they could not finish anyway. Default 1 ms; zero refuses only once the deadline
         * has passed.
         */
        public Builder minimumBudget(Duration minimumBudget) {
            Objects.requireNonNull(minimumBudget, "minimumBudget");
            if (minimumBudget.isNegative()) {
                throw new IllegalArgumentException("minimumBudget: " + minimumBudget + " (expected: >= 0)");
            }
            this.minimumBudgetNanos = saturatedNanos(minimumBudget);
            return this;
        }

        /** How the budget becomes the statement's timeout. Default {@link TimeoutMode#AUTO}. */
        public Builder timeoutMode(TimeoutMode timeoutMode) {
            this.mode = Objects.requireNonNull(timeoutMode, "timeoutMode");
            return this;
        }

        /** The wrapper, with these settings. */
        public TetherDataSource build() {
            return new TetherDataSource(dataSource, minimumBudgetNanos, mode);
        }
    }

    @Override
    public Connection getConnection() throws SQLException {
        Context ctx = Context.current();
        if (ctx == Context.background()) {
            return wrapConnection(delegate.getConnection());
        }
        return acquire(ctx, delegate::getConnection);
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        Context ctx = Context.current();
        if (ctx == Context.background()) {
            return wrapConnection(delegate.getConnection(username, password));
        }
        return acquire(ctx, () -> delegate.getConnection(username, password));
    }

    /** The delegate's builder, whose {@code build()} is guarded like {@link #getConnection()}. */
    @Override
    public ConnectionBuilder createConnectionBuilder() throws SQLException {
        return new TetherConnectionBuilder(this, delegate.createConnectionBuilder());
    }

    /** What opens one connection of the delegate's. */
    @FunctionalInterface
    interface Opener {
        Connection open() throws SQLException;
    }

    /** Opens a connection under {@code ctx}: refused when it is done, the wait interrupted when it ends. */
    Connection acquire(Context ctx, Opener opener) throws SQLException {
        if (ctx == Context.background()) {
            return wrapConnection(opener.open());
        }
        if (ctx.isDone()) {
            throw Failures.refused("connection request", ctx);
        }
        Optional<Duration> remaining = ctx.remaining();
        if (remaining.isPresent()) {
            long budget = saturatedNanos(remaining.get());
            if (budget < minimumBudgetNanos) {
                throw Failures.budgetTooSmall("connection request", budget, minimumBudgetNanos);
            }
        }
        AcquireGuard guard = new AcquireGuard();
        var registration = ctx.onDone(guard);
        Connection raw;
        try {
            raw = opener.open();
        } catch (SQLException | RuntimeException e) {
            registration.stop();
            guard.finish();
            if (ctx.isDone()) {
                SQLException refused = Failures.refused("connection request", ctx);
                refused.addSuppressed(e);
                throw refused;
            }
            throw e;
        }
        registration.stop();
        guard.finish();
        if (ctx.isDone()) {
            // The context ended as the connection arrived: hand it back rather than start work for a done request.
            SQLException refused = Failures.refused("connection request", ctx);
            try {
                raw.close();
            } catch (SQLException e) {
                refused.addSuppressed(e);
            }
            throw refused;
        }
        return wrapConnection(raw);
    }

    private Connection wrapConnection(Connection raw) {
        Boolean pg = postgres;
        if (pg == null) {
            pg = detectPostgres(raw);
        }
        return new TetherConnection(raw, this, pg, mode != TimeoutMode.CANCEL_ONLY);
    }

    private boolean detectPostgres(Connection raw) {
        try {
            String product = raw.getMetaData().getDatabaseProductName();
            boolean pg = product != null && product.toLowerCase(Locale.ROOT).contains("postgresql");
            postgres = pg;
            return pg;
        } catch (SQLException | RuntimeException e) {
            return false; // not cached: the next connection asks again
        }
    }

    long minimumBudgetNanos() {
        return minimumBudgetNanos;
    }

    static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return d.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
        return delegate.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
        delegate.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        delegate.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
        return delegate.getLoginTimeout();
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        return delegate.getParentLogger();
    }

    /** This wrapper if it is an {@code iface}, else the wrapped data source's {@code unwrap}. */
    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        Objects.requireNonNull(iface, "iface");
        return iface.isInstance(this) ? iface.cast(this) : delegate.unwrap(iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        Objects.requireNonNull(iface, "iface");
        return iface.isInstance(this) || delegate.isWrapperFor(iface);
    }

    @Override
    public String toString() {
        return "TetherDataSource[" + delegate + ", minimumBudget=" + Failures.millis(minimumBudgetNanos) + ", "
                + mode + "]";
    }
}
