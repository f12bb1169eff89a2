package dev.tether.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A throwaway PostgreSQL server, for tests and demos: Debian's server binaries (installed with apt-get when missing
 * and running as root), a fresh {@code initdb} in a temporary directory, a server on a free loopback port, stopped
 * and deleted by {@link #close()} (and by a JVM shutdown hook if the program never gets there). Not for production
 * data: the cluster trusts every local connection and runs with {@code fsync=off}.
 *
 * {@snippet :
 * try (ThrowawayPostgres pg = ThrowawayPostgres.start()) {          // throws IllegalStateException saying why not
 *     DataSource db = pg.dataSource("my-test");                     // user postgres, database postgres
 *     try (Connection c = db.getConnection()) { ... }
 * }
 * }
 *
 * <p>No Docker and no embedded binaries: the embedded PostgreSQL on Maven Central refuses to run as root, which
 * CI is. As root, every PostgreSQL command runs as the {@code postgres} user through {@code runuser}, in a
 * directory that user owns; as anyone else, as that user.
 *
 * <p>If the binaries cannot be found or installed, {@link #start()} throws an {@link IllegalStateException} that
 * says what to do, so a test fails with the reason (never passes silently) and a demo can say so and carry on
 * without. {@code -Dtether.postgres.bin=DIR} (or the environment variable {@code TETHER_POSTGRES_BIN}) points at
 * another installation's {@code bin} directory. Starting takes a few seconds (an {@code initdb}); installing, the
 * first time on a machine, minutes.
 */
public final class ThrowawayPostgres implements AutoCloseable {

    private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(15);
    private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final String HOST = "127.0.0.1";
    private static final String MONITOR = "tether-monitor";

    // Guarded by the class: the cluster shared() hands out, started on first use.
    private static @Nullable ThrowawayPostgres shared;

    private final Path bin;
    private final Path baseDir;
    private final Path dataDir;
    private final int port;
    private final boolean statStatements;
    private final boolean asPostgresUser;
    private final AtomicBoolean stopped = new AtomicBoolean();
    // Set once after the server is up; removed by close() unless the JVM is already running it.
    private volatile @Nullable Thread shutdownHook;

    private ThrowawayPostgres(Path bin, Path baseDir, int port, boolean statStatements, boolean asPostgresUser) {
        this.bin = bin;
        this.baseDir = baseDir;
        this.dataDir = baseDir.resolve("data");
        this.port = port;
        this.statStatements = statStatements;
        this.asPostgresUser = asPostgresUser;
    }

    /**
     * Starts a new cluster, installing PostgreSQL first if it is missing and this process runs as root. The caller
     * closes it; a JVM shutdown hook stops it if the caller never does.
     *
     * @throws IllegalStateException if no PostgreSQL server can be found, installed or started; the message says
     *     why and what to do
     */
    public static ThrowawayPostgres start() {
        ThrowawayPostgres cluster = startCluster();
        Thread hook = new Thread(cluster::close, "tether-postgres-stop");
        try {
            Runtime.getRuntime().addShutdownHook(hook);
        } catch (IllegalStateException e) {
            cluster.close();   // the JVM is already exiting: nobody would stop it
            throw new IllegalStateException("ThrowawayPostgres: the JVM is shutting down", e);
        }
        cluster.shutdownHook = hook;
        return cluster;
    }

    /**
     * The cluster shared by every caller in this JVM, started on first use and stopped when the JVM exits: for
     * test suites, so that many test classes pay for one {@code initdb}. Do not close it.
     *
     * @throws IllegalStateException as {@link #start()}, on every call until a start succeeds
     */
    public static synchronized ThrowawayPostgres shared() {
        ThrowawayPostgres cluster = shared;
        if (cluster == null) {
            cluster = start();
            shared = cluster;
        }
        return cluster;
    }

    /** The loopback address the server listens on: {@code 127.0.0.1}. */
    public String host() {
        return HOST;
    }

    /** The server's TCP port on {@link #host()}. */
    public int port() {
        return port;
    }

    /** The directory of the PostgreSQL binaries this cluster runs: {@code initdb}, {@code pg_ctl}, {@code postgres}. */
    public Path binDirectory() {
        return bin;
    }

    /** Whether the {@code pg_stat_statements} extension is loaded and created in database {@code postgres}. */
    public boolean hasPgStatStatements() {
        return statStatements;
    }

    /**
     * A pgjdbc URL for database {@code postgres} as user {@code postgres} (no password: the cluster trusts local
     * connections), naming the client {@code applicationName} in {@code pg_stat_activity}.
     *
     * @throws IllegalArgumentException if applicationName is blank or not plain printable ASCII without {@code &}
     */
    public String jdbcUrl(String applicationName) {
        return "jdbc:postgresql://" + HOST + ":" + port + "/postgres?user=postgres&ApplicationName="
                + checkName(applicationName);
    }

    /**
     * A non-pooling pgjdbc {@link DataSource} for database {@code postgres} as user {@code postgres}, naming the
     * client {@code applicationName} in {@code pg_stat_activity}; wrap it in a pool as needed.
     *
     * @throws IllegalArgumentException as {@link #jdbcUrl(String)}
     */
    public DataSource dataSource(String applicationName) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setServerNames(new String[] {HOST});
        ds.setPortNumbers(new int[] {port});
        ds.setDatabaseName("postgres");
        ds.setUser("postgres");
        ds.setApplicationName(checkName(applicationName));
        return ds;
    }

    /**
     * A plain driver connection for watching the server ({@code pg_stat_activity}, {@code pg_stat_statements}),
     * named {@code tether-monitor}: never wrapped, never pooled. The caller closes it.
     */
    public Connection monitor() throws SQLException {
        return dataSource(MONITOR).getConnection();
    }

    @Override
    public String toString() {
        return "ThrowawayPostgres[" + HOST + ":" + port + ", " + bin + (stopped.get() ? ", stopped" : "") + "]";
    }

    private static String checkName(String applicationName) {
        Objects.requireNonNull(applicationName, "applicationName");
        if (applicationName.isBlank() || !applicationName.chars().allMatch(c -> c >= 0x20 && c < 0x7f && c != '&')) {
            throw new IllegalArgumentException("applicationName: '" + applicationName
                    + "' (expected: printable ASCII, not blank, no '&')");
        }
        return applicationName;
    }

    // ---- starting ----

    private static ThrowawayPostgres startCluster() {
        Path bin = findBinaries();
        if (bin == null) {
            install();
            bin = findBinaries();
            if (bin == null) {
                throw new IllegalStateException("ThrowawayPostgres: apt-get installed 'postgresql' but no initdb was"
                        + " found under /usr/lib/postgresql/*/bin; set -Dtether.postgres.bin=DIR");
            }
        }
        boolean root = isRoot();
        try {
            Path base = Files.createTempDirectory("tether-pg-");
            if (root) {
                run(List.of("chown", "postgres:postgres", base.toString()), base, COMMAND_TIMEOUT, false);
            }
            boolean statStatements = Files.exists(bin.resolveSibling("lib").resolve("pg_stat_statements.so"));
            ThrowawayPostgres cluster = null;
            IllegalStateException last = null;
            try {
                List<String> initdb = List.of(bin.resolve("initdb").toString(), "-D", base.resolve("data").toString(),
                        "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync");
                run(initdb, base, COMMAND_TIMEOUT, root);
                // A free port can be taken between the probe and the bind: try a few.
                for (int attempt = 0; attempt < 3 && cluster == null; attempt++) {
                    ThrowawayPostgres candidate = new ThrowawayPostgres(bin, base, freePort(), statStatements, root);
                    try {
                        candidate.startServer();
                        cluster = candidate;
                    } catch (IllegalStateException e) {
                        last = e;
                    }
                }
            } finally {
                if (cluster == null) {
                    deleteTree(base);
                }
            }
            if (cluster == null) {
                throw last;
            }
            cluster.awaitReady();
            return cluster;
        } catch (IOException e) {
            throw new UncheckedIOException("ThrowawayPostgres: could not prepare a temporary cluster directory", e);
        }
    }

    private void startServer() {
        StringBuilder options = new StringBuilder()
                .append("-p ").append(port)
                .append(" -k ").append(baseDir)
                .append(" -c listen_addresses=127.0.0.1")
                .append(" -c max_connections=200")
                .append(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        if (statStatements) {
            options.append(" -c shared_preload_libraries=pg_stat_statements");
        }
        List<String> pgCtl = List.of(bin.resolve("pg_ctl").toString(), "-D", dataDir.toString(),
                "-l", baseDir.resolve("server.log").toString(), "-o", options.toString(),
                "-w", "-t", "60", "start");
        try {
            run(pgCtl, baseDir, Duration.ofSeconds(90), asPostgresUser);
        } catch (IllegalStateException e) {
            throw new IllegalStateException(e.getMessage() + "\nserver.log:\n" + tail(baseDir.resolve("server.log")),
                    e);
        }
    }

    /** pg_ctl -w already waits; this also proves a JDBC login works, within a bound. */
    private void awaitReady() {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        SQLException last = null;
        while (System.nanoTime() < deadline) {
            try (Connection c = monitor()) {
                if (statStatements) {
                    c.createStatement().execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
                }
                return;
            } catch (SQLException e) {
                last = e;
                sleepQuietly(50);
            }
        }
        close();
        throw new IllegalStateException("ThrowawayPostgres: the server on port " + port + " did not accept a"
                + " connection within " + READY_TIMEOUT.toSeconds() + " s; server.log:\n"
                + tail(baseDir.resolve("server.log")), last);
    }

    /**
     * Stops the server at once ({@code pg_ctl stop -m immediate}) and deletes its directory. Idempotent; also what
     * the shutdown hook runs. Failures to stop are printed to standard error, not thrown.
     */
    @Override
    public void close() {
        if (!stopped.compareAndSet(false, true)) {
            return;
        }
        Thread hook = shutdownHook;
        if (hook != null && hook != Thread.currentThread()) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is exiting and runs the hooks: ours finds the cluster stopped and returns
            }
        }
        try {
            run(List.of(bin.resolve("pg_ctl").toString(), "-D", dataDir.toString(), "-m", "immediate", "-w", "-t",
                    "30", "stop"), baseDir, Duration.ofSeconds(45), asPostgresUser);
        } catch (RuntimeException e) {
            System.err.println("ThrowawayPostgres: stopping the cluster failed: " + e.getMessage());
        } finally {
            deleteTree(baseDir);
        }
    }

    // ---- binaries ----

    private static Path findBinaries() {
        String configured = System.getProperty("tether.postgres.bin", System.getenv("TETHER_POSTGRES_BIN"));
        if (configured != null && !configured.isBlank()) {
            Path dir = Paths.get(configured);
            if (!Files.isExecutable(dir.resolve("initdb"))) {
                throw new IllegalStateException("ThrowawayPostgres: tether.postgres.bin=" + configured
                        + " has no executable initdb");
            }
            return dir;
        }
        Path debian = Paths.get("/usr/lib/postgresql");
        if (Files.isDirectory(debian)) {
            try (Stream<Path> versions = Files.list(debian)) {
                Path newest = versions
                        .filter(v -> Files.isExecutable(v.resolve("bin/initdb")))
                        .max(Comparator.comparingInt(ThrowawayPostgres::versionOf))
                        .orElse(null);
                if (newest != null) {
                    return newest.resolve("bin");
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Paths.get(dir, "initdb"))
                    && Files.isExecutable(Paths.get(dir, "pg_ctl"))) {
                return Paths.get(dir);
            }
        }
        return null;
    }

    private static int versionOf(Path dir) {
        try {
            return Integer.parseInt(dir.getFileName().toString());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static void install() {
        if (!isRoot()) {
            throw new IllegalStateException("ThrowawayPostgres: no PostgreSQL server binaries (initdb, pg_ctl) found,"
                    + " and not running as root to install them. Install Debian's 'postgresql' package"
                    + " (sudo apt-get install postgresql) or set -Dtether.postgres.bin=DIR to a bin directory.");
        }
        if (!Files.isExecutable(Paths.get("/usr/bin/apt-get"))) {
            throw new IllegalStateException("ThrowawayPostgres: no PostgreSQL server binaries found and no apt-get to"
                    + " install them; install PostgreSQL 12 or newer and set -Dtether.postgres.bin=DIR");
        }
        System.err.println("ThrowawayPostgres: installing Debian's 'postgresql' package with apt-get");
        run(List.of("apt-get", "update", "-q"), Paths.get("/"), INSTALL_TIMEOUT, false);
        run(List.of("apt-get", "install", "-y", "-q", "--no-install-recommends", "postgresql"), Paths.get("/"),
                INSTALL_TIMEOUT, false);
    }

    private static boolean isRoot() {
        try {
            Object uid = Files.getAttribute(Paths.get("/proc/self"), "unix:uid");
            return Integer.valueOf(0).equals(uid);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    // ---- processes and files ----

    /** Runs a command to completion within {@code timeout}; throws with its output if it fails. */
    private static void run(List<String> command, Path dir, Duration timeout, boolean asPostgres) {
        List<String> full = new ArrayList<>();
        if (asPostgres) {
            full.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        full.addAll(command);
        Path output = null;
        try {
            output = Files.createTempFile("tether-pg-cmd-", ".log");
            ProcessBuilder pb = new ProcessBuilder(full).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(output.toFile()); // a file, not a pipe: pg_ctl's server must not hold our pipe
            pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
            pb.environment().put("LC_ALL", "C");
            Process p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("ThrowawayPostgres: '" + String.join(" ", full) + "' did not finish"
                        + " within " + timeout.toSeconds() + " s:\n" + tail(output));
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("ThrowawayPostgres: '" + String.join(" ", full) + "' failed with exit"
                        + " code " + p.exitValue() + ":\n" + tail(output));
            }
        } catch (IOException e) {
            throw new IllegalStateException("ThrowawayPostgres: could not run '" + String.join(" ", full) + "': " + e,
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("ThrowawayPostgres: interrupted running " + full, e);
        } finally {
            if (output != null) {
                try {
                    Files.deleteIfExists(output);
                } catch (IOException e) {
                    // a temporary log; nothing depends on it
                }
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // best effort: a file the server still writes as it dies
                }
            });
        } catch (IOException e) {
            System.err.println("ThrowawayPostgres: could not delete " + root + ": " + e);
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
