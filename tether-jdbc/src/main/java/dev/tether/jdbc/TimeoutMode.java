package dev.tether.jdbc;

/**
 * How {@link TetherDataSource} hands a context's remaining budget to the database as a statement timeout. In every
 * mode the statement is also cancelled with {@link java.sql.Statement#cancel()} the moment its context ends; the
 * timeout is the database's own backstop for when that cancel cannot arrive (the client died, the network broke).
 */
public enum TimeoutMode {

    /** {@link #POSTGRESQL} when the database reports itself as PostgreSQL, else {@link #QUERY_TIMEOUT}. */
    AUTO,

    /**
     * Inside a transaction, {@code SET LOCAL statement_timeout} (through {@code set_config}) to the budget rounded
     * up to the millisecond, enforced by the server and undone by the transaction's end; never above a
     * {@code statement_timeout} the session already had. Outside a transaction, {@code SET LOCAL} would not last
     * until the statement, so {@link #QUERY_TIMEOUT} applies. Costs one round trip per statement in a transaction,
     * and one more before {@code commit()}, which puts the session's timeout back so that the last statement's
     * budget cannot stop the COMMIT itself (a ROLLBACK it stops is retried).
     */
    POSTGRESQL,

    /**
     * {@link java.sql.Statement#setQueryTimeout(int)}, rounded up to whole seconds (JDBC's unit), never above a
     * timeout the application set; restored after the statement. How it is enforced is the driver's business:
     * pgjdbc runs a client-side timer that sends a cancel; H2 checks it in the engine.
     */
    QUERY_TIMEOUT,

    /** No timeout is given to the driver: only {@link java.sql.Statement#cancel()} when the context ends. */
    CANCEL_ONLY
}
