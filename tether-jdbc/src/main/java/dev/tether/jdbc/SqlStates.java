package dev.tether.jdbc;

/**
 * The SQLStates of the exceptions that {@link TetherDataSource}'s connections throw because a context ended. In
 * every case the exception's {@linkplain java.sql.SQLException#getCause() cause} is the context's
 * {@link dev.tether.Context#err() err()} (a {@link dev.tether.ContextCancelledException} or a
 * {@link dev.tether.DeadlineExceededException}), whose own cause is the context's {@link dev.tether.Context#cause()
 * cause()} when one was given. A driver exception that the cancellation produced is attached as suppressed.
 *
 * <p>A deadline gives a {@link java.sql.SQLTimeoutException}; a cancellation a plain {@link java.sql.SQLException};
 * a rolled-back transaction a {@link java.sql.SQLTransactionRollbackException}.
 */
public final class SqlStates {

    /**
     * Nothing was sent: the context was cancelled before the statement (or the wait for a connection) started.
     * ODBC's "operation canceled".
     */
    public static final String REFUSED_CANCELLED = "HY008";

    /**
     * Nothing was sent: the context's deadline had passed, or the budget left was below the data source's
     * minimum. ODBC's "timeout expired".
     */
    public static final String REFUSED_DEADLINE = "HYT00";

    /**
     * The statement reached the database and was stopped because its context ended, by {@code Statement.cancel()}
     * or by the timeout Tether gave it. PostgreSQL's {@code query_canceled}, which PostgreSQL itself reports for
     * both a cancel and a {@code statement_timeout}; Tether uses it whatever the driver reported.
     */
    public static final String QUERY_CANCELLED = "57014";

    /**
     * The transaction was rolled back because its context ended. {@code commit()} reports it, and so does every
     * statement on the connection until the application calls {@code rollback()} (or {@code commit()}, or
     * {@code setAutoCommit}). The SQL standard's "transaction rollback".
     */
    public static final String TRANSACTION_ROLLED_BACK = "40000";

    private SqlStates() {
    }
}
