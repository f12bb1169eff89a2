package dev.tether.jdbc;

import dev.tether.Context;
import dev.tether.ContextDoneException;
import dev.tether.DeadlineExceededException;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransactionRollbackException;
import java.util.Locale;
import java.util.Objects;

/** Builds the exceptions of {@link SqlStates}, each with the context's err as its cause. */
final class Failures {

    private Failures() {
    }

    /** A statement or connection request not sent because {@code context} is done. */
    static SQLException refused(String what, Context context) {
        ContextDoneException err = Objects.requireNonNull(context.err(), "err of a done context");
        String reason = what + " not sent: " + err.getMessage();
        return err instanceof DeadlineExceededException
                ? new SQLTimeoutException(reason, SqlStates.REFUSED_DEADLINE, 0, err)
                : new SQLException(reason, SqlStates.REFUSED_CANCELLED, 0, err);
    }

    /** A statement or connection request not sent because less than the minimum budget was left. */
    static SQLException budgetTooSmall(String what, long remainingNanos, long minimumNanos) {
        String reason = what + " not sent: " + millis(remainingNanos) + " left before the context's deadline, below"
                + " the minimum of " + millis(minimumNanos);
        return new SQLTimeoutException(reason, SqlStates.REFUSED_DEADLINE, 0,
                new DeadlineExceededException(reason, null));
    }

    /** A statement stopped because its context ended; {@code driver} is what the driver threw. */
    static SQLException cancelled(Context context, SQLException driver) {
        ContextDoneException err = Objects.requireNonNull(context.err(), "err of a done context");
        String reason = "statement cancelled: " + err.getMessage();
        SQLException e = err instanceof DeadlineExceededException
                ? new SQLTimeoutException(reason, SqlStates.QUERY_CANCELLED, driver.getErrorCode(), err)
                : new SQLException(reason, SqlStates.QUERY_CANCELLED, driver.getErrorCode(), err);
        e.addSuppressed(driver);
        return e;
    }

    /** The transaction was rolled back because its context ({@code err}) ended. */
    static SQLException rolledBack(String what, ContextDoneException err) {
        return new SQLTransactionRollbackException(what + ": the transaction was rolled back because its context"
                + " ended (" + err.getMessage() + "); call rollback() before using the connection again",
                SqlStates.TRANSACTION_ROLLED_BACK, 0, err);
    }

    /**
     * Whether a driver exception looks like a timeout or a cancel: PostgreSQL's query_canceled, ODBC's operation
     * canceled and timeout expired, or JDBC's timeout type.
     */
    static boolean looksCancelled(SQLException e) {
        if (e instanceof SQLTimeoutException) {
            return true;
        }
        String state = e.getSQLState();
        return SqlStates.QUERY_CANCELLED.equals(state) || SqlStates.REFUSED_CANCELLED.equals(state)
                || SqlStates.REFUSED_DEADLINE.equals(state);
    }

    static String millis(long nanos) {
        return String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
    }
}
