package dev.tether.bench;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.Scope;
import dev.tether.jdbc.TetherDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.h2.jdbcx.JdbcDataSource;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What {@link TetherDataSource} adds to one statement: {@code executeQuery} of a prepared {@code SELECT 1} on an
 * in-memory H2 database, reading its row, through the wrapped DataSource ({@code tether_…}) and the plain one
 * ({@code jdk_…}), on one open connection and statement each.
 *
 * <ul>
 *   <li>{@code noContext}: nothing attached ({@code Context.background()}): Tether's fast path.</li>
 *   <li>{@code cancellable}: a live {@code withCancel()} context attached: Tether registers and stops one onDone
 *       action per statement.</li>
 *   <li>{@code deadline}: a live context with a 1 h deadline attached: also the budget check and the query
 *       timeout, set and restored per statement. H2 keeps the query timeout per connection and runs a
 *       {@code SET QUERY_TIMEOUT} command for each change, so this row includes two such commands; pgjdbc only
 *       stores the value (and then arms its own timer).</li>
 * </ul>
 * Both peers attach the same context in the same way, so the difference is Tether's. H2 in memory is the cheapest
 * statement there is, which makes the overhead as visible as it gets; against a database over a network
 * (hundreds of microseconds per round trip) it is a small fraction. On PostgreSQL inside a transaction the
 * deadline case adds a round trip for {@code SET LOCAL statement_timeout}, which this benchmark does not show.
 *
 * <p>Run: {@code tether-bench/run.sh --jmh JdbcBench -prof gc} (or {@code run.sh --quick JdbcBench} for the
 * table rows).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(org.openjdk.jmh.annotations.Scope.Thread)
public class JdbcBench {

    private Connection plainConnection;
    private Connection tetherConnection;
    private PreparedStatement plain;
    private PreparedStatement tether;
    private CancellableContext cancellable;
    private CancellableContext deadline;

    @Setup
    public void setUp() throws SQLException {
        JdbcDataSource h2 = new JdbcDataSource();
        h2.setURL("jdbc:h2:mem:jdbcbench;DB_CLOSE_DELAY=-1;TRACE_LEVEL_FILE=0");
        plainConnection = h2.getConnection();
        plain = plainConnection.prepareStatement("SELECT 1");
        tetherConnection = TetherDataSource.wrap(h2).getConnection();
        tether = tetherConnection.prepareStatement("SELECT 1");
        cancellable = Context.background().withCancel();
        deadline = Context.background().withTimeout(Duration.ofHours(1));
    }

    @TearDown
    public void tearDown() throws SQLException {
        cancellable.cancel();
        deadline.cancel();
        plain.close();
        tether.close();
        plainConnection.close();
        tetherConnection.close();
    }

    private static int selectOne(PreparedStatement statement) throws SQLException {
        try (ResultSet rs = statement.executeQuery()) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @SuppressWarnings("try") // the scope is the point: it binds the context while the statement runs
    private static int selectOne(Context context, PreparedStatement statement) throws SQLException {
        try (Scope scope = context.attach()) {
            return selectOne(statement);
        }
    }

    /** The driver's own statement, nothing attached. */
    @Benchmark
    public int jdk_noContext() throws SQLException {
        return selectOne(plain);
    }

    /** Tether's statement, nothing attached. */
    @Benchmark
    public int tether_noContext() throws SQLException {
        return selectOne(tether);
    }

    /** The driver's own statement under a live cancellable context (which it ignores). */
    @Benchmark
    public int jdk_cancellable() throws SQLException {
        return selectOne(cancellable, plain);
    }

    /** Tether's statement under a live cancellable context. */
    @Benchmark
    public int tether_cancellable() throws SQLException {
        return selectOne(cancellable, tether);
    }

    /** The driver's own statement under a live context with a 1 h deadline (which it ignores). */
    @Benchmark
    public int jdk_deadline() throws SQLException {
        return selectOne(deadline, plain);
    }

    /** Tether's statement under a live context with a 1 h deadline. */
    @Benchmark
    public int tether_deadline() throws SQLException {
        return selectOne(deadline, tether);
    }
}
