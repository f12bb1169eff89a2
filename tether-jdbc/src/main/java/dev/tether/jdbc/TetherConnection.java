package dev.tether.jdbc;

import dev.tether.Context;
import dev.tether.ContextDoneException;
import java.sql.Array;
import java.sql.Blob;
import java.sql.CallableStatement;
import java.sql.Clob;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.NClob;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLClientInfoException;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.SQLXML;
import java.sql.Savepoint;
import java.sql.ShardingKey;
import java.sql.Statement;
import java.sql.Struct;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.Executor;
import org.jspecify.annotations.NullUnmarked;

/**
 * A connection whose statements follow the current context (see {@link TetherDataSource}), and whose transaction
 * is rolled back when it is used under a context that has ended.
 *
 * <p>Which context a transaction belongs to is never guessed: Tether looks only at {@link Context#current()} at
 * each call. A statement refused or cancelled because the current context ended rolls the open transaction back
 * (PostgreSQL aborts it anyway once a statement fails), and so do {@code commit()}, {@code setAutoCommit(true)}
 * and {@code close()} under a done context. A transaction whose statements all completed under contexts that
 * ended later commits normally under a live one: its work was done in time.
 *
 * <p>State. JDBC connections are used by one thread at a time, so the fields below are plain: they are written
 * and read by the thread using the connection (a pool hands it over with a happens-before edge).
 * {@link #rolledBackBy} records that Tether rolled a transaction back, so later statements fail until the
 * application acknowledges it with {@code rollback()}, {@code commit()} or {@code setAutoCommit}, rather than run
 * in a new transaction that silently lacks the first one's work; {@link #localTimeoutSet} and
 * {@link #sessionTimeoutMillis} track PostgreSQL's {@code SET LOCAL statement_timeout}. {@link #attention} is true
 * while either asks even a statement run without a context to take the guarded path.
 */
@NullUnmarked
final class TetherConnection implements Connection {

    /**
     * Reads the session's statement_timeout (ms; 0 = none) and sets the transaction's to the smaller of it and the
     * budget, in one round trip. The OFFSET 0 subquery is evaluated before the outer select list.
     */
    private static final String SET_FIRST_TIMEOUT = "SELECT s.session, set_config('statement_timeout',"
            + " (CASE WHEN s.session > 0 AND s.session < ? THEN s.session ELSE ? END)::text, true)"
            + " FROM (SELECT setting::bigint AS session FROM pg_settings WHERE name = 'statement_timeout' OFFSET 0) s";
    private static final String SET_TIMEOUT = "SELECT set_config('statement_timeout', ?, true)";

    final Connection delegate;
    final TetherDataSource source;
    /** Whether SET LOCAL statement_timeout applies inside transactions. */
    private final boolean postgres;
    /** Whether a budget becomes a driver timeout at all (false in CANCEL_ONLY). */
    final boolean timeouts;

    private ContextDoneException rolledBackBy;
    private boolean localTimeoutSet;
    /** The session's statement_timeout in ms as read at this transaction's first SET LOCAL; -1 before. */
    private long sessionTimeoutMillis = -1;
    boolean attention;
    /**
     * Whether a statement was sent since the last commit, rollback or auto-commit switch: whether a transaction
     * may hold work. Written by every execute, the unguarded ones too (a plain write).
     */
    boolean dirty;
    private PreparedStatement setFirstTimeout;
    private PreparedStatement setTimeout;

    TetherConnection(Connection delegate, TetherDataSource source, boolean postgres, boolean timeouts) {
        this.delegate = delegate;
        this.source = source;
        this.postgres = postgres;
        this.timeouts = timeouts;
    }

    // ---- the guarded path of every execute ----

    /**
     * Checks that a statement may be sent under {@code ctx} and prepares its execution: the refusals, then the
     * timeout. On return the execution is in flight ({@link Execution#begin()}); the
     * caller runs the statement and then calls {@link TetherStatement#end}.
     */
    Execution start(Context ctx, TetherStatement statement) throws SQLException {
        if (rolledBackBy != null) {
            throw Failures.rolledBack("statement not sent", rolledBackBy);
        }
        if (ctx.isDone()) {
            throw refused(ctx);
        }
        long budget = -1;
        if (ctx != Context.background()) {
            var remaining = ctx.remaining();
            if (remaining.isPresent()) {
                budget = TetherDataSource.saturatedNanos(remaining.get());
                if (budget < source.minimumBudgetNanos()) {
                    throw Failures.budgetTooSmall("statement", budget, source.minimumBudgetNanos());
                }
            }
        }
        boolean inTransaction = !delegate.getAutoCommit();
        Execution ex = new Execution(ctx, statement.delegate);
        ex.register();
        boolean internal = false; // whether a SET was sent first, which began the execution
        boolean live = true;
        try {
            if (budget >= 0 && timeouts) {
                if (postgres && inTransaction) {
                    internal = true;
                    live = setLocalTimeout(ex, budget);
                } else {
                    statement.applyQueryTimeout(budget);
                }
            } else if (inTransaction && localTimeoutSet) {
                internal = true;
                live = restoreLocalTimeout(ex);
            }
        } catch (SQLException e) {
            statement.end(ex);
            throw failed(ex, e);
        } catch (RuntimeException e) {
            statement.end(ex);
            throw e;
        }
        ex.target(statement.delegate);
        // begin() re-reads the context after publishing RUNNING: see Execution for why that closes the race
        if (live) {
            live = internal ? !ctx.isDone() : ex.begin();
        }
        if (!live) {
            statement.end(ex);
            throw refused(ctx);
        }
        dirty = true;
        return ex;
    }

    /** A statement refused because {@code ctx} is done; rolls back the open transaction, if any. */
    private SQLException refused(Context ctx) {
        SQLException e = Failures.refused("statement", ctx);
        rollBackOpenTransaction(Objects.requireNonNull(ctx.err()), e);
        return e;
    }

    /**
     * What a statement that failed under {@code ex} throws: the context's failure if the context is done and the
     * failure is its doing (Tether cancelled it, or the driver reports a cancel or timeout), else the driver's.
     */
    SQLException failed(Execution ex, SQLException e) {
        ex.finish(); // no cancel of this execution is in flight after this, so the rollback below is safe
        Context ctx = ex.context;
        if (!ctx.isDone() || !(ex.cancelSent() || Failures.looksCancelled(e))) {
            return e;
        }
        SQLException cancelled = Failures.cancelled(ctx, e);
        Throwable cancelFailure = ex.cancelFailure();
        if (cancelFailure != null) {
            cancelled.addSuppressed(cancelFailure);
        }
        rollBackOpenTransaction(Objects.requireNonNull(ctx.err()), cancelled);
        return cancelled;
    }

    /**
     * Rolls back the open transaction, if auto-commit is off and statements ran in it, because its context ended
     * ({@code err}); later statements then fail until the application acknowledges it. Failures are added to
     * {@code thrown}.
     */
    private void rollBackOpenTransaction(ContextDoneException err, SQLException thrown) {
        if (!dirty) {
            return; // nothing of the application's was sent since the last commit or rollback
        }
        try {
            if (delegate.getAutoCommit()) {
                return;
            }
            rollbackDelegate();
        } catch (SQLException e) {
            thrown.addSuppressed(e);
        }
        endTransaction();
        rolledBackBy = err;
        attention = true;
    }

    private void endTransaction() {
        dirty = false;
        rolledBackBy = null;
        localTimeoutSet = false;
        sessionTimeoutMillis = -1;
        attention = false;
    }

    /**
     * SET LOCAL statement_timeout to the budget, capped by the session's own, as the execution's first step.
     * Returns false, sending nothing, if the context ended first.
     */
    private boolean setLocalTimeout(Execution ex, long budgetNanos) throws SQLException {
        long millis = Math.max(1, ceilDiv(budgetNanos, 1_000_000L)); // 0 would mean no timeout at all
        PreparedStatement ps;
        if (sessionTimeoutMillis < 0) {
            if (setFirstTimeout == null) {
                setFirstTimeout = delegate.prepareStatement(SET_FIRST_TIMEOUT);
            }
            ps = setFirstTimeout;
            ps.setLong(1, millis);
            ps.setLong(2, millis);
        } else {
            long capped = sessionTimeoutMillis > 0 ? Math.min(sessionTimeoutMillis, millis) : millis;
            ps = setTimeoutStatement();
            ps.setString(1, Long.toString(capped));
        }
        if (!runInternal(ex, ps)) {
            return false;
        }
        localTimeoutSet = true;
        attention = true;
        return true;
    }

    /** Puts back the session's statement_timeout after a SET LOCAL, for a statement without a deadline. */
    private boolean restoreLocalTimeout(Execution ex) throws SQLException {
        PreparedStatement ps = setTimeoutStatement();
        ps.setString(1, Long.toString(Math.max(0, sessionTimeoutMillis)));
        if (!runInternal(ex, ps)) {
            return false;
        }
        localTimeoutSet = false;
        return true;
    }

    private PreparedStatement setTimeoutStatement() throws SQLException {
        if (setTimeout == null) {
            setTimeout = delegate.prepareStatement(SET_TIMEOUT);
        }
        return setTimeout;
    }

    private boolean runInternal(Execution ex, PreparedStatement ps) throws SQLException {
        ex.target(ps);
        if (!ex.begin()) {
            return false;
        }
        try (ResultSet rs = ps.executeQuery()) {
            if (sessionTimeoutMillis < 0 && rs.next()) {
                sessionTimeoutMillis = rs.getLong(1);
            }
        }
        return true;
    }

    private static long ceilDiv(long x, long y) {
        return -Math.floorDiv(-x, y);
    }

    // ---- transactions ----

    /**
     * Commits, unless the current context is done and statements ran since the last commit: then rolls back and
     * throws {@link SqlStates#TRANSACTION_ROLLED_BACK}, as it does when Tether already rolled the transaction back.
     */
    @Override
    public void commit() throws SQLException {
        ContextDoneException err = rolledBackBy;
        if (err != null) {
            endTransaction();
            throw Failures.rolledBack("commit refused", err);
        }
        Context ctx = Context.current();
        if (dirty && ctx.isDone()) {
            endTransaction();
            err = Objects.requireNonNull(ctx.err());
            SQLException e = Failures.rolledBack("commit refused", err);
            try {
                rollbackDelegate();
            } catch (SQLException r) {
                e.addSuppressed(r);
            }
            throw e;
        }
        restoreSessionTimeout();
        delegate.commit();
        endTransaction();
    }

    @Override
    public void rollback() throws SQLException {
        try {
            rollbackDelegate();
        } finally {
            endTransaction();
        }
    }

    /**
     * The delegate's rollback. A {@code SET LOCAL statement_timeout} that Tether gave an earlier statement is in
     * force until the transaction ends, so it also times the ROLLBACK: when a small budget's timeout stops the
     * ROLLBACK itself (57014), it is sent again, up to five times.
     */
    private void rollbackDelegate() throws SQLException {
        for (int attempt = 1; ; attempt++) {
            try {
                delegate.rollback();
                return;
            } catch (SQLException e) {
                if (!localTimeoutSet || attempt == 5 || !SqlStates.QUERY_CANCELLED.equals(e.getSQLState())) {
                    throw e;
                }
            }
        }
    }

    /**
     * Puts back the session's statement_timeout before the transaction ends, so that COMMIT (or whatever a pool
     * does with a connection closed mid-transaction) is not timed by an earlier statement's budget. In a
     * transaction that already failed this cannot run; its end is a rollback, which {@link #rollbackDelegate}
     * retries.
     */
    private void restoreSessionTimeout() {
        if (!localTimeoutSet) {
            return;
        }
        try {
            PreparedStatement ps = setTimeoutStatement();
            ps.setString(1, Long.toString(Math.max(0, sessionTimeoutMillis)));
            ps.executeQuery().close();
            localTimeoutSet = false;
        } catch (SQLException e) {
            // an aborted transaction: see above
        }
    }

    @Override
    public void rollback(Savepoint savepoint) throws SQLException {
        delegate.rollback(savepoint);
    }

    /**
     * Switching auto-commit on commits the open transaction (JDBC's rule), unless the current context is done:
     * then the transaction is rolled back first, auto-commit is switched on, and
     * {@link SqlStates#TRANSACTION_ROLLED_BACK} is thrown, as it is when Tether already rolled it back.
     */
    @Override
    public void setAutoCommit(boolean autoCommit) throws SQLException {
        ContextDoneException err = rolledBackBy;
        if (err == null && autoCommit && dirty) {
            Context ctx = Context.current();
            if (ctx.isDone() && !delegate.getAutoCommit()) {
                err = Objects.requireNonNull(ctx.err());
                rollbackDelegate();
            }
        }
        if (err == null && autoCommit) {
            restoreSessionTimeout(); // switching auto-commit on commits
        }
        endTransaction();
        delegate.setAutoCommit(autoCommit);
        if (err != null && autoCommit) {
            throw Failures.rolledBack("setAutoCommit(true) did not commit", err);
        }
    }

    /**
     * Closes (or returns to the pool) the connection; under a done context, rolls back the open transaction
     * first, whatever the pool or driver would do with it.
     */
    @Override
    public void close() throws SQLException {
        try {
            if ((dirty || localTimeoutSet) && !delegate.isClosed() && !delegate.getAutoCommit()) {
                if (dirty && Context.current().isDone()) {
                    rollbackDelegate();
                } else {
                    restoreSessionTimeout();
                }
            }
        } finally {
            endTransaction();
            closeInternal();
            delegate.close();
        }
    }

    private void closeInternal() {
        for (PreparedStatement ps : new PreparedStatement[] {setFirstTimeout, setTimeout}) {
            if (ps != null) {
                try {
                    ps.close();
                } catch (SQLException e) {
                    // the connection is going away; its statements go with it
                }
            }
        }
        setFirstTimeout = null;
        setTimeout = null;
    }

    // ---- statements ----

    @Override
    public Statement createStatement() throws SQLException {
        return new TetherStatement(this, delegate.createStatement());
    }

    @Override
    public Statement createStatement(int resultSetType, int resultSetConcurrency) throws SQLException {
        return new TetherStatement(this, delegate.createStatement(resultSetType, resultSetConcurrency));
    }

    @Override
    public Statement createStatement(int resultSetType, int resultSetConcurrency, int resultSetHoldability)
            throws SQLException {
        return new TetherStatement(this,
                delegate.createStatement(resultSetType, resultSetConcurrency, resultSetHoldability));
    }

    @Override
    public PreparedStatement prepareStatement(String sql) throws SQLException {
        return new TetherPreparedStatement(this, delegate.prepareStatement(sql));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int autoGeneratedKeys) throws SQLException {
        return new TetherPreparedStatement(this, delegate.prepareStatement(sql, autoGeneratedKeys));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int[] columnIndexes) throws SQLException {
        return new TetherPreparedStatement(this, delegate.prepareStatement(sql, columnIndexes));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, String[] columnNames) throws SQLException {
        return new TetherPreparedStatement(this, delegate.prepareStatement(sql, columnNames));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int resultSetType, int resultSetConcurrency)
            throws SQLException {
        return new TetherPreparedStatement(this,
                delegate.prepareStatement(sql, resultSetType, resultSetConcurrency));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int resultSetType, int resultSetConcurrency,
            int resultSetHoldability) throws SQLException {
        return new TetherPreparedStatement(this,
                delegate.prepareStatement(sql, resultSetType, resultSetConcurrency, resultSetHoldability));
    }

    @Override
    public CallableStatement prepareCall(String sql) throws SQLException {
        return new TetherCallableStatement(this, delegate.prepareCall(sql));
    }

    @Override
    public CallableStatement prepareCall(String sql, int resultSetType, int resultSetConcurrency)
            throws SQLException {
        return new TetherCallableStatement(this, delegate.prepareCall(sql, resultSetType, resultSetConcurrency));
    }

    @Override
    public CallableStatement prepareCall(String sql, int resultSetType, int resultSetConcurrency,
            int resultSetHoldability) throws SQLException {
        return new TetherCallableStatement(this,
                delegate.prepareCall(sql, resultSetType, resultSetConcurrency, resultSetHoldability));
    }

    // ---- Wrapper ----

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
        return "TetherConnection[" + delegate + "]";
    }

    // ---- delegated as they are ----

    @Override
    public void abort(Executor executor) throws SQLException {
        delegate.abort(executor);
    }

    @Override
    public void beginRequest() throws SQLException {
        delegate.beginRequest();
    }

    @Override
    public void clearWarnings() throws SQLException {
        delegate.clearWarnings();
    }

    @Override
    public Array createArrayOf(String typeName, Object[] elements) throws SQLException {
        return delegate.createArrayOf(typeName, elements);
    }

    @Override
    public Blob createBlob() throws SQLException {
        return delegate.createBlob();
    }

    @Override
    public Clob createClob() throws SQLException {
        return delegate.createClob();
    }

    @Override
    public NClob createNClob() throws SQLException {
        return delegate.createNClob();
    }

    @Override
    public SQLXML createSQLXML() throws SQLException {
        return delegate.createSQLXML();
    }

    @Override
    public Struct createStruct(String typeName, Object[] attributes) throws SQLException {
        return delegate.createStruct(typeName, attributes);
    }

    @Override
    public void endRequest() throws SQLException {
        delegate.endRequest();
    }

    @Override
    public boolean getAutoCommit() throws SQLException {
        return delegate.getAutoCommit();
    }

    @Override
    public String getCatalog() throws SQLException {
        return delegate.getCatalog();
    }

    @Override
    public Properties getClientInfo() throws SQLException {
        return delegate.getClientInfo();
    }

    @Override
    public String getClientInfo(String name) throws SQLException {
        return delegate.getClientInfo(name);
    }

    @Override
    public int getHoldability() throws SQLException {
        return delegate.getHoldability();
    }

    @Override
    public DatabaseMetaData getMetaData() throws SQLException {
        return delegate.getMetaData();
    }

    @Override
    public int getNetworkTimeout() throws SQLException {
        return delegate.getNetworkTimeout();
    }

    @Override
    public String getSchema() throws SQLException {
        return delegate.getSchema();
    }

    @Override
    public int getTransactionIsolation() throws SQLException {
        return delegate.getTransactionIsolation();
    }

    @Override
    public Map<String, Class<?>> getTypeMap() throws SQLException {
        return delegate.getTypeMap();
    }

    @Override
    public SQLWarning getWarnings() throws SQLException {
        return delegate.getWarnings();
    }

    @Override
    public boolean isClosed() throws SQLException {
        return delegate.isClosed();
    }

    @Override
    public boolean isReadOnly() throws SQLException {
        return delegate.isReadOnly();
    }

    @Override
    public boolean isValid(int timeout) throws SQLException {
        return delegate.isValid(timeout);
    }

    @Override
    public String nativeSQL(String sql) throws SQLException {
        return delegate.nativeSQL(sql);
    }

    @Override
    public void releaseSavepoint(Savepoint savepoint) throws SQLException {
        delegate.releaseSavepoint(savepoint);
    }

    @Override
    public void setCatalog(String catalog) throws SQLException {
        delegate.setCatalog(catalog);
    }

    @Override
    public void setClientInfo(String name, String value) throws SQLClientInfoException {
        delegate.setClientInfo(name, value);
    }

    @Override
    public void setClientInfo(Properties properties) throws SQLClientInfoException {
        delegate.setClientInfo(properties);
    }

    @Override
    public void setHoldability(int holdability) throws SQLException {
        delegate.setHoldability(holdability);
    }

    @Override
    public void setNetworkTimeout(Executor executor, int milliseconds) throws SQLException {
        delegate.setNetworkTimeout(executor, milliseconds);
    }

    @Override
    public void setReadOnly(boolean readOnly) throws SQLException {
        delegate.setReadOnly(readOnly);
    }

    @Override
    public Savepoint setSavepoint() throws SQLException {
        return delegate.setSavepoint();
    }

    @Override
    public Savepoint setSavepoint(String name) throws SQLException {
        return delegate.setSavepoint(name);
    }

    @Override
    public void setSchema(String schema) throws SQLException {
        delegate.setSchema(schema);
    }

    @Override
    public void setShardingKey(ShardingKey shardingKey, ShardingKey superShardingKey) throws SQLException {
        delegate.setShardingKey(shardingKey, superShardingKey);
    }

    @Override
    public void setShardingKey(ShardingKey shardingKey) throws SQLException {
        delegate.setShardingKey(shardingKey);
    }

    @Override
    public boolean setShardingKeyIfValid(ShardingKey shardingKey, int timeout) throws SQLException {
        return delegate.setShardingKeyIfValid(shardingKey, timeout);
    }

    @Override
    public boolean setShardingKeyIfValid(ShardingKey shardingKey, ShardingKey superShardingKey, int timeout) throws SQLException {
        return delegate.setShardingKeyIfValid(shardingKey, superShardingKey, timeout);
    }

    @Override
    public void setTransactionIsolation(int level) throws SQLException {
        delegate.setTransactionIsolation(level);
    }

    @Override
    public void setTypeMap(Map<String, Class<?>> map) throws SQLException {
        delegate.setTypeMap(map);
    }

}
