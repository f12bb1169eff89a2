package dev.tether.examples;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.leak.ContextMap;
import dev.tether.leak.ContextMapPage;
import dev.tether.leak.LeakDetector;
import dev.tether.leak.LeakListener;
import dev.tether.leak.LeakReport;
import dev.tether.testing.ThrowawayPostgres;
import dev.tether.wire.EndedEarly;
import dev.tether.wire.WireHeaders;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * The README's demo: one deadline budget and one cancellation, from a client through three services to the
 * database, all in this process on loopback ports. A plain HTTP/2 client calls {@code gateway} (Jetty 12 behind
 * tether-jetty's {@code TetherHandler}, h2c), which calls {@code orders} (the same) with tether-httpclient, which
 * calls {@code inventory} (gRPC on Netty behind tether-grpc's interceptors), which runs a PostgreSQL query (a
 * throwaway cluster; H2 in memory when PostgreSQL cannot be had) through tether-jdbc's {@code TetherDataSource}
 * over HikariCP. OpenTelemetry's SDK runs in process with tether-otel's bridge and span processor, and tether-leak's
 * detector watches for work that outlives its request.
 *
 * <p>Three scenarios, each printing one line per hop (budget received and where it came from, who set the
 * deadline, what happened, time spent), what the client got, and the span attributes of spans that ended early:
 * <ol>
 *   <li>a fast checkout under the gateway's 2 s budget;</li>
 *   <li>a slow query ({@code pg_sleep(30)}) under the same budget: inventory's deadline cancels the query, every
 *       hop ends early, and the client gets a 504 whose reason names every hop and the deadline's origin;</li>
 *   <li>the client resets its HTTP/2 stream 300 ms in: every hop stops, and the query with them.</li>
 * </ol>
 * Then the leak check, and the live context map written as an HTML page.
 *
 * <p>Arguments: {@code --leaky} makes inventory's backend task ignore cancellation (a retry loop that never asks
 * its context), so the leak check reports it with the request's lineage and where it was started; {@code --h2}
 * skips PostgreSQL. The system property {@code tether.demo.outputDir} names the directory for
 * {@code context-map.html} (default {@code target}). Exits with status 1 if the demo did not show what it should.
 */
public final class ChainDemo {

    static final int SLOW_QUERY_SECONDS = 30;
    static final Duration DISCONNECT_AFTER = Duration.ofMillis(300);
    static final Duration STOP_BOUND = Duration.ofSeconds(1);
    static final Duration LEAK_GRACE = Duration.ofMillis(500);
    /** For anything that takes far less: a bound, so that the demo never hangs. */
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String USAGE = "usage: ChainDemo [--leaky] [--h2]";
    private static final String NETTY_NO_NATIVE = "io.grpc.netty.shaded.io.netty.transport.noNative";

    /** How to run the demo. */
    record Options(boolean leaky, boolean h2, Path outputDir, @Nullable ThrowawayPostgres postgres) {

        /**
         * Reads the command line.
         *
         * @throws IllegalArgumentException naming an argument it does not know
         */
        static Options parse(String[] args, Path outputDir) {
            boolean leaky = false;
            boolean h2 = false;
            for (String arg : args) {
                switch (arg) {
                    case "--leaky" -> leaky = true;
                    case "--h2" -> h2 = true;
                    default -> throw new IllegalArgumentException("unknown argument: '" + arg + "'; " + USAGE);
                }
            }
            return new Options(leaky, h2, outputDir, null);
        }
    }

    /**
     * What one scenario showed.
     *
     * @param hops gateway, orders and inventory, in that order; one is missing if it recorded no call in time
     * @param status the client's HTTP status; 0 if it reset the stream
     * @param ended the {@value WireHeaders#ENDED} header the client got, if any
     * @param resetNanos when the client reset its stream, or {@link HopRecord#NOT_ENDED}
     */
    record Scenario(String title, List<HopRecord> hops, int status, @Nullable String ended,
            @Nullable QueryOutcome query, QueryOutcome.@Nullable Gone gone, long resetNanos, List<SpanData> spans,
            List<String> problems) {

        @Nullable HopRecord hop(String service) {
            return hops.stream().filter(h -> h.service().equals(service)).findFirst().orElse(null);
        }
    }

    /** What the whole demo showed; {@link #problems} lists what it should have shown and did not. */
    record Outcome(String database, List<Scenario> scenarios, LeakReport leaks, int backendTasks, Path contextMap,
            List<String> problems) {

        boolean ok() {
            return problems.isEmpty();
        }
    }

    private final PrintStream out;
    private final Chain chain;
    private final Telemetry telemetry;
    private final StockDatabase db;

    private ChainDemo(PrintStream out, Chain chain, Telemetry telemetry, StockDatabase db) {
        this.out = out;
        this.chain = chain;
        this.telemetry = telemetry;
        this.db = db;
    }

    public static void main(String[] args) throws Exception {
        // Netty on the JDK's NIO transport: no native library to load, so no native-access warning on JDK 24+.
        if (System.getProperty(NETTY_NO_NATIVE) == null) {
            System.setProperty(NETTY_NO_NATIVE, "true");
        }
        Options options;
        try {
            options = Options.parse(args, Path.of(System.getProperty("tether.demo.outputDir", "target")));
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        if (!run(options, System.out).ok()) {
            System.exit(1);
        }
    }

    /** Runs the demo, printing to {@code out}. */
    static Outcome run(Options options, PrintStream out) throws Exception {
        long start = System.nanoTime();
        out.println("Tether chain demo: one budget and one cancellation, from the client to the database");
        out.println();
        LeakDetector.Level level = options.leaky() ? LeakDetector.Level.FULL : LeakDetector.Level.SAMPLED;
        ThrowawayPostgres owned = null;
        try (Telemetry telemetry = Telemetry.start();
                LeakDetector leaks = LeakDetector.install(LeakDetector.Options.defaults().withLevel(level)
                        .withGracePeriod(LEAK_GRACE).withListener(LeakListener.none()))) {
            StockDatabase db = null;
            if (!options.h2()) {
                ThrowawayPostgres pg = options.postgres();
                if (pg == null) {
                    out.println("starting a throwaway PostgreSQL (Debian's package is installed first if missing)...");
                    pg = owned = startPostgres(out);
                }
                if (pg != null) {
                    db = openPostgres(pg, out);
                }
            }
            if (db == null) {
                db = StockDatabase.h2();
            }
            try (StockDatabase database = db;
                    CancellableContext gatewayServer = Context.background().withCancel();
                    CancellableContext ordersServer = Context.background().withCancel();
                    CancellableContext inventoryServer = Context.background().withCancel()) {
                leaks.label(gatewayServer, "gateway server");
                leaks.label(ordersServer, "orders server");
                leaks.label(inventoryServer, "inventory server");
                try (Chain chain = Chain.start(gatewayServer, ordersServer, inventoryServer, database,
                        telemetry.tracer(), options.leaky())) {
                    ChainDemo demo = new ChainDemo(out, chain, telemetry, database);
                    demo.describe(level, options);
                    List<Scenario> scenarios = demo.scenarios();
                    Outcome outcome = demo.leakCheck(leaks, options, scenarios);
                    out.println();
                    out.printf(Locale.ROOT, "demo took %.1f s%s%n", (System.nanoTime() - start) / 1e9,
                            outcome.ok() ? "" : "; it did not show what it should:");
                    outcome.problems().forEach(p -> out.println("  - " + p));
                    return outcome;
                }
            }
        } finally {
            if (owned != null) {
                owned.close();
            }
        }
    }

    private static @Nullable ThrowawayPostgres startPostgres(PrintStream out) {
        try {
            return ThrowawayPostgres.start();
        } catch (RuntimeException e) {
            out.println("PostgreSQL cannot be had here (" + firstLine(e.getMessage()).replace("ThrowawayPostgres: ", "")
                    + "); inventory runs on H2 in memory instead.");
            return null;
        }
    }

    private static @Nullable StockDatabase openPostgres(ThrowawayPostgres pg, PrintStream out) {
        try {
            return StockDatabase.postgres(pg);
        } catch (SQLException | RuntimeException e) {
            out.println("PostgreSQL started but cannot be used (" + firstLine(e.getMessage())
                    + "); inventory runs on H2 in memory instead.");
            return null;
        }
    }

    private void describe(LeakDetector.Level level, Options options) {
        out.printf(Locale.ROOT, "  %-10s %-24s %s%n", "gateway", "http://127.0.0.1:" + chain.gateway.port(),
                "Jetty 12 + TetherHandler, h2c; gives each request " + Chain.GATEWAY_BUDGET.toMillis()
                        + " ms, keeps " + Chain.SERVER_RESERVE.toMillis() + " ms to answer");
        out.printf(Locale.ROOT, "  %-10s %-24s %s%n", "orders", "http://127.0.0.1:" + chain.orders.port(),
                "Jetty 12 + TetherHandler, h2c; called through TetherHttpClient (keeps "
                        + Chain.CLIENT_RESERVE.toMillis() + " ms per hop)");
        out.printf(Locale.ROOT, "  %-10s %-24s %s%n", "inventory", "127.0.0.1:" + chain.inventory.port(),
                "gRPC on Netty + TetherServerInterceptor (keeps " + Chain.INVENTORY_RESERVE.toMillis()
                        + " ms); called through TetherClientInterceptor");
        out.printf(Locale.ROOT, "  %-10s %s%n", "database", db.description()
                + ", HikariCP under tether-jdbc's TetherDataSource");
        out.printf(Locale.ROOT, "  %-10s %s%n", "tracing", "OpenTelemetry SDK in process: OtelContextBridge,"
                + " TetherSpanProcessor, a server span per hop");
        out.printf(Locale.ROOT, "  %-10s %s%n", "leaks", "LeakDetector " + level + ", grace period "
                + LEAK_GRACE.toMillis() + " ms" + (options.leaky()
                        ? "; --leaky: inventory's backend task retries without ever asking its context" : ""));
    }

    // ---- the scenarios ----

    private List<Scenario> scenarios() throws Exception {
        warmUp();
        List<Scenario> scenarios = new ArrayList<>();
        scenarios.add(fastCheckout());
        scenarios.add(slowQuery());
        scenarios.add(clientGoesAway());
        return scenarios;
    }

    /**
     * Calls before the scenarios, so that every connection is open and upgraded to HTTP/2 and every code path has
     * run once: first straight to orders, under its own default budget (10 s), since a cold JVM's first call through
     * gRPC, Netty, the pool and the driver can take longer than the gateway's 2 s; then one checkout.
     */
    private void warmUp() throws Exception {
        Order order = new Order(StockDatabase.SKU, 0);
        HttpResponse<String> direct = chain.user.sendAsync(
                HttpRequest.newBuilder(chain.orders.uri("/reserve?" + order.query())).build(),
                HttpResponse.BodyHandlers.ofString()).get(WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        HttpResponse<String> checkout = chain.user.sendAsync(chain.checkout(order),
                HttpResponse.BodyHandlers.ofString()).get(WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        out.println();
        out.println("warm-up: one call straight to orders (" + direct.statusCode() + ") and one checkout ("
                + checkout.statusCode() + ", " + checkout.version() + "): connections open, h2c upgraded");
        // Their records end a little after the client has its answer: wait for them (five spans), then start clean.
        chain.orders.nextCall(WAIT);
        chain.inventory.nextCall(WAIT);
        collectHops();
        telemetry.await(5, WAIT);
        chain.forget();
        telemetry.forget();
    }

    private Scenario fastCheckout() throws Exception {
        String title = "1. A fast checkout: GET /checkout?sku=book, under the gateway's "
                + Chain.GATEWAY_BUDGET.toSeconds() + " s budget";
        header(title);
        long sent = System.nanoTime();
        HttpResponse<String> response = chain.user.sendAsync(chain.checkout(new Order(StockDatabase.SKU, 0)),
                HttpResponse.BodyHandlers.ofString()).get(WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        long answered = System.nanoTime();
        List<String> problems = new ArrayList<>();
        List<HopRecord> hops = printHops(collectHops(), problems);
        QueryOutcome query = printQuery(hops, HopRecord.NOT_ENDED, problems);
        out.printf(Locale.ROOT, "  %-10s %d in %.1f ms: %s%n", "client", response.statusCode(),
                (answered - sent) / 1e6, response.body().strip());
        if (response.statusCode() != 200) {
            problems.add(title + ": the client got " + response.statusCode() + ", expected 200");
        }
        List<SpanData> spans = printSpans();
        return new Scenario(title, hops, response.statusCode(), null, query, null, HopRecord.NOT_ENDED, spans,
                problems);
    }

    private Scenario slowQuery() throws Exception {
        String title = "2. A slow query: " + db.statement(new Order(StockDatabase.SKU, SLOW_QUERY_SECONDS))
                + ", under the same budget";
        header(title);
        long sent = System.nanoTime();
        HttpResponse<String> response = chain.user.sendAsync(
                chain.checkout(new Order(StockDatabase.SKU, SLOW_QUERY_SECONDS)),
                HttpResponse.BodyHandlers.ofString()).get(WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        long answered = System.nanoTime();
        List<String> problems = new ArrayList<>();
        List<HopRecord> hops = printHops(collectHops(), problems);
        QueryOutcome query = printQuery(hops, HopRecord.NOT_ENDED, problems);
        QueryOutcome.Gone gone = gone(query);
        String ended = response.headers().firstValue(WireHeaders.ENDED).orElse(null);
        out.printf(Locale.ROOT, "  %-10s %d after %.0f ms; %s%n", "client", response.statusCode(),
                (answered - sent) / 1e6, ended == null ? "no " + WireHeaders.ENDED + " header" : reasonChain(ended));
        if (response.statusCode() != 504) {
            problems.add(title + ": the client got " + response.statusCode() + ", expected 504");
        }
        if (ended == null || !ended.contains("inventory") || !ended.contains("orders")) {
            problems.add(title + ": the client's " + WireHeaders.ENDED + " does not name every hop: " + ended);
        }
        for (HopRecord hop : hops) {
            if (!hop.endedEarly()) {
                problems.add(title + ": " + hop.service() + " did not end early: " + hop.outcome());
            }
        }
        List<SpanData> spans = printSpans();
        return new Scenario(title, hops, response.statusCode(), ended, query, gone, HopRecord.NOT_ENDED, spans,
                problems);
    }

    private Scenario clientGoesAway() throws Exception {
        String title = "3. The client goes away: it resets its HTTP/2 stream " + DISCONNECT_AFTER.toMillis()
                + " ms in, while the query runs";
        header(title);
        List<String> problems = new ArrayList<>();
        long sent = System.nanoTime();
        CompletableFuture<HttpResponse<String>> pending = chain.user.sendAsync(
                chain.checkout(new Order(StockDatabase.SKU, SLOW_QUERY_SECONDS)), HttpResponse.BodyHandlers.ofString());
        if (!chain.inventory.awaitStatementSent(WAIT)) {
            problems.add(title + ": the query did not start within " + WAIT.toSeconds() + " s");
        }
        long wait = DISCONNECT_AFTER.toNanos() - (System.nanoTime() - sent);
        if (wait > 0) {
            NANOSECONDS.sleep(wait);
        }
        long reset = System.nanoTime();   // before: the servers may hear of it before cancel() returns
        pending.cancel(true);              // the JDK client resets the HTTP/2 stream
        List<HopRecord> hops = printHops(collectHops(), problems);
        QueryOutcome query = printQuery(hops, reset, problems);
        QueryOutcome.Gone gone = gone(query);
        StringBuilder stopped = new StringBuilder();
        for (HopRecord hop : hops) {
            long ended = hop.contextEndedNanos();
            stopped.append(stopped.isEmpty() ? "" : ", ").append(hop.service()).append(' ')
                    .append(ended == HopRecord.NOT_ENDED ? "never" : millis(ended - reset));
            if (ended == HopRecord.NOT_ENDED || ended - reset > STOP_BOUND.toNanos()) {
                problems.add(title + ": " + hop.service() + " did not stop within " + STOP_BOUND.toMillis() + " ms");
            }
        }
        out.printf(Locale.ROOT, "  %-10s reset its stream %.0f ms in (sendAsync(...).cancel(true))%n", "client",
                (reset - sent) / 1e6);
        out.printf(Locale.ROOT, "  %-10s %s after the reset (bound %d ms)%n", "stopped", stopped,
                STOP_BOUND.toMillis());
        List<SpanData> spans = printSpans();
        return new Scenario(title, hops, 0, null, query, gone, reset, spans, problems);
    }

    // ---- reading and printing ----

    private void header(String title) {
        out.println();
        out.println("== " + title);
        out.println(HopRecord.header());
    }

    /** Each hop's record of the scenario's call, gateway first; waits for the ones not in yet. */
    private List<HopRecord> collectHops() throws InterruptedException {
        List<HopRecord> hops = new ArrayList<>(3);
        for (HopRecord hop : Arrays.asList(chain.gateway.nextCall(WAIT), chain.orders.nextCall(WAIT),
                chain.inventory.nextCall(WAIT))) {
            if (hop != null) {
                hops.add(hop);
            }
        }
        return hops;
    }

    private List<HopRecord> printHops(List<HopRecord> hops, List<String> problems) {
        for (HopRecord hop : hops) {
            out.println(hop.line());
        }
        if (hops.size() < 3) {
            problems.add("only " + hops.size() + " of 3 hops recorded a call within " + WAIT.toSeconds() + " s");
        }
        return hops;
    }

    /**
     * The last hop's statement: how it ended, and for one its context ended under, when the database showed it gone
     * (after the reset, if {@code resetNanos} is given; else after the context's end).
     */
    private @Nullable QueryOutcome printQuery(List<HopRecord> hops, long resetNanos, List<String> problems)
            throws InterruptedException {
        HopRecord inventory = hops.stream().filter(h -> h.service().equals(Inventory.SERVICE)).findFirst()
                .orElse(null);
        if (inventory == null || inventory.query() == null) {
            return null;
        }
        QueryOutcome query = await(inventory.query());
        if (query == null) {
            problems.add("inventory's statement did not end within " + WAIT.toSeconds() + " s");
            out.printf(Locale.ROOT, "  %-10s still running after %d s%n", "query", WAIT.toSeconds());
            return null;
        }
        out.printf(Locale.ROOT, "  %-10s %s %s %s: %s%n", "query", query.statement(),
                query.completed() ? "took" : "stopped after", millis(query.elapsed().toNanos()), query.detail());
        QueryOutcome.Gone gone = gone(query);
        if (gone != null) {
            boolean pg = db.kind() == StockDatabase.Kind.POSTGRESQL;
            String view = pg ? "pg_stat_activity: backend" : "INFORMATION_SCHEMA.SESSIONS: session";
            if (gone.stillRunning()) {
                problems.add("the database still ran the statement " + WAIT.toSeconds() + " s after it was cancelled");
                out.printf(Locale.ROOT, "  %-10s %s: backend %d still '%s' %d s after the cancel%n", "database",
                        view, query.backend(), gone.state(), WAIT.toSeconds());
            } else if (resetNanos == HopRecord.NOT_ENDED) {
                out.printf(Locale.ROOT, "  %-10s %s %d '%s' %s after the cancel%n",
                        "database", view, query.backend(), gone.state(), millis(gone.afterCancel().toNanos()));
            } else {
                out.printf(Locale.ROOT, "  %-10s %s %d '%s' %s after the client's reset%n", "database",
                        view, query.backend(), gone.state(), millis(gone.goneNanos() - resetNanos));
            }
        } else if (!query.completed()) {
            problems.add("inventory's statement failed without its context ending: " + query.detail());
        }
        return query;
    }

    private QueryOutcome.@Nullable Gone gone(@Nullable QueryOutcome query) throws InterruptedException {
        return query == null ? null : await(query.gone());
    }

    private List<SpanData> printSpans() throws InterruptedException {
        List<SpanData> spans = telemetry.await(3, WAIT);
        List<SpanData> early = spans.stream().filter(Telemetry::endedEarly)
                .sorted(Comparator.comparingInt(Telemetry::hopOrder)).toList();
        if (early.isEmpty()) {
            out.println("  spans: " + spans.size() + " server spans, none ended early");
        } else {
            out.println("  spans that ended early (" + early.size() + " of " + spans.size()
                    + " server spans), with the attributes TetherSpanProcessor recorded:");
            early.forEach(span -> Telemetry.lines(span).forEach(out::println));
        }
        return spans;
    }

    /** {@code tether-ended}'s kind, then its reason split where each hop passed on the one below it. */
    private static String reasonChain(String header) {
        EndedEarly ended;
        try {
            ended = EndedEarly.parse(header);
        } catch (IllegalArgumentException e) {
            return WireHeaders.ENDED + ": " + header;
        }
        String indent = String.format(Locale.ROOT, "%n  %-10s   ", "");
        String[] hops = ended.reason().split("(?<=ended the call early: (deadline-exceeded|cancelled): )");
        return WireHeaders.ENDED + ": " + ended.kind().token() + ", reason:" + indent
                + String.join(indent, Arrays.stream(hops).map(String::strip).toList());
    }

    // ---- the leak check ----

    private Outcome leakCheck(LeakDetector leaks, Options options, List<Scenario> scenarios)
            throws InterruptedException, IOException {
        out.println();
        out.println("== Leak check: LeakDetector " + leaks.level() + ", grace period " + LEAK_GRACE.toMillis() + " ms");
        // The last request ended a moment ago: let its grace period pass, so that whatever still runs is a leak.
        NANOSECONDS.sleep(LEAK_GRACE.plusMillis(200).toNanos());
        LeakReport report = leaks.leaks();
        int tasks = chain.inventory.backendTasks();
        List<String> problems = new ArrayList<>();
        scenarios.forEach(s -> problems.addAll(s.problems()));
        if (report.isEmpty()) {
            out.println("leak check: no task outlived its request (" + tasks + " backend tasks started through"
                    + " Tether, each ended with its request)");
            if (options.leaky()) {
                problems.add("--leaky: the leaky backend tasks were not reported");
            }
        } else {
            out.println("leak check: " + report.tasks().size() + " of " + tasks + " backend tasks started through"
                    + " Tether outlived their request; LeakDetector.printLeaks:");
            out.println();
            leaks.printLeaks(out);
            if (!options.leaky()) {
                problems.add("a task outlived its request");
            }
        }
        Path map = options.outputDir().resolve("context-map.html").toAbsolutePath();
        Files.createDirectories(options.outputDir());
        ContextMapPage.write(map, ContextMap.capture(leaks).toJson());
        out.println();
        out.println("context map: " + map + " (live contexts and their tasks"
                + (report.isEmpty() ? "" : ", leaks highlighted") + "; open it in a browser)");
        return new Outcome(db.description(), scenarios, report, tasks, map, problems);
    }

    // ---- helpers ----

    private static <T> @Nullable T await(CompletableFuture<T> future) throws InterruptedException {
        try {
            return future.get(WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            return null;
        }
    }

    private static String millis(long nanos) {
        return String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
    }

    private static String firstLine(@Nullable String message) {
        if (message == null) {
            return "no reason given";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
