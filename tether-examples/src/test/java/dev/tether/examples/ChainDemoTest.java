package dev.tether.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.leak.ContextInfo;
import dev.tether.leak.TaskInfo;
import dev.tether.otel.TetherSpans;
import dev.tether.testing.ThrowawayPostgres;
import dev.tether.wire.EndedEarly;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's demo, run in full against a throwaway PostgreSQL (as the README's command does), in normal and in
 * leaky mode, and once on H2: what each scenario reports is what the demo claims. Real servers on loopback and real
 * time, so the bounds are generous: what is asserted is the order of things and who said what, not speed.
 */
@Timeout(180)
class ChainDemoTest {

    private static final String ORIGIN = "gateway/GET:/checkout";
    private static final List<String> HOPS = List.of("gateway", "orders", Inventory.SERVICE);

    @TempDir
    Path output;

    private static ChainDemo.Outcome run(ChainDemo.Options options, StringBuilder text) throws Exception {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        ChainDemo.Outcome outcome;
        try (PrintStream out = new PrintStream(captured, true, StandardCharsets.UTF_8)) {
            outcome = ChainDemo.run(options, out);
        }
        text.append(captured.toString(StandardCharsets.UTF_8));
        System.out.print(text);
        return outcome;
    }

    @Test
    void normalMode_budgetsShrinkTheDeadlineExceededNamesEveryHopTheResetStopsEveryHopAndNothingLeaks()
            throws Exception {
        StringBuilder text = new StringBuilder();
        ChainDemo.Outcome outcome = run(new ChainDemo.Options(false, false, output, ThrowawayPostgres.shared()), text);

        assertTrue(outcome.ok(), outcome.problems() + "\n" + text);
        assertTrue(outcome.database().startsWith("PostgreSQL "), outcome.database());
        assertEquals(3, outcome.scenarios().size());
        ChainDemo.Scenario fast = outcome.scenarios().get(0);
        ChainDemo.Scenario slow = outcome.scenarios().get(1);
        ChainDemo.Scenario reset = outcome.scenarios().get(2);

        // 1: every hop completed, each with less budget than the one before, all counting down to the gateway's.
        assertEquals(200, fast.status());
        assertBudgetsShrinkAndTheGatewayIsTheOrigin(fast);
        HOPS.forEach(hop -> assertTrue(fast.hop(hop).outcome().startsWith("completed"), fast.hop(hop).outcome()));
        assertTrue(fast.query().completed(), fast.query().detail());
        assertTrue(fast.spans().stream().noneMatch(Telemetry::endedEarly), fast.spans().toString());

        // 2: inventory's deadline passes first and cancels the query; the 504's reason names every hop and the origin.
        assertEquals(504, slow.status());
        assertBudgetsShrinkAndTheGatewayIsTheOrigin(slow);
        EndedEarly ended = EndedEarly.parse(slow.ended());
        assertEquals(EndedEarly.Kind.DEADLINE_EXCEEDED, ended.kind());
        assertTrue(ended.reason().startsWith("orders ended the call early: deadline-exceeded: "
                + "inventory/inventory.Inventory/Reserve ended the call early: deadline-exceeded: "), ended.reason());
        assertTrue(ended.reason().contains("deadline set by " + ORIGIN), ended.reason());
        HOPS.forEach(hop -> assertTrue(slow.hop(hop).endedEarly(), hop + ": " + slow.hop(hop).outcome()));
        assertEquals("ended early: deadline exceeded", slow.hop(Inventory.SERVICE).outcome());
        assertFalse(slow.query().completed());
        assertTrue(slow.query().detail().startsWith("SQLState 57014"), slow.query().detail());
        assertQueryGone(slow);
        Attributes inventorySpan = span(slow, "inventory.Inventory/Reserve").getAttributes();
        assertEquals("deadline_exceeded", inventorySpan.get(TetherSpans.CANCEL_TYPE));
        assertEquals(ORIGIN, inventorySpan.get(TetherSpans.DEADLINE_ORIGIN));
        assertEquals("dev.tether.DeadlineExceededException", inventorySpan.get(TetherSpans.ERROR_TYPE));
        long inventoryBudget = inventorySpan.get(TetherSpans.DEADLINE_BUDGET_MS);
        Attributes gatewaySpan = span(slow, "gateway GET /checkout").getAttributes();
        assertEquals("cancelled", gatewaySpan.get(TetherSpans.CANCEL_TYPE));
        assertTrue(gatewaySpan.get(TetherSpans.CANCEL_REASON).startsWith("orders ended the call early"),
                gatewaySpan.get(TetherSpans.CANCEL_REASON));
        assertTrue(gatewaySpan.get(TetherSpans.DEADLINE_BUDGET_MS) > inventoryBudget);
        assertTrue(slow.spans().stream().allMatch(Telemetry::endedEarly), slow.spans().toString());

        // 3: the client's reset reaches every hop within the bound, and the query is gone.
        for (String hop : HOPS) {
            HopRecord record = reset.hop(hop);
            assertEquals("ended early: cancelled, the client went away", record.outcome(), hop);
            long stopped = record.contextEndedNanos() - reset.resetNanos();
            assertTrue(stopped >= 0 && stopped <= ChainDemo.STOP_BOUND.toNanos(), hop + " stopped after " + stopped);
        }
        assertFalse(reset.query().completed());
        assertQueryGone(reset);
        assertTrue(reset.spans().stream().allMatch(Telemetry::endedEarly), reset.spans().toString());

        // No leak: every backend task (the two warm-up calls' and each scenario's) ended with its request.
        assertTrue(outcome.leaks().isEmpty(), outcome.leaks().toText());
        assertEquals(5, outcome.backendTasks());
        assertTrue(text.toString().contains("leak check: no task outlived its request"), text.toString());
        assertTrue(Files.readString(outcome.contextMap()).contains("Tether context map"));
        assertFalse(text.toString().contains("\tat ") || text.toString().contains("Exception in thread"),
                "no stack traces: " + text);
    }

    @Test
    void leakyMode_reportsTheBackendTasksThatOutliveTheirRequestWithLineageAndCreationSite() throws Exception {
        StringBuilder text = new StringBuilder();
        ChainDemo.Outcome outcome = run(new ChainDemo.Options(true, false, output, ThrowawayPostgres.shared()), text);

        assertTrue(outcome.ok(), outcome.problems() + "\n" + text);
        // The fast checkout's task ends with its request; the slow query's and the reset's keep retrying.
        List<TaskInfo> leaked = outcome.leaks().tasks();
        assertEquals(2, leaked.size(), outcome.leaks().toText());
        for (TaskInfo task : leaked) {
            assertTrue(task.leaked());
            assertNotNull(task.creationSite(), "FULL captures every creation stack");
            assertTrue(task.creationSite().startsWith("dev.tether.examples.Inventory.reserve("), task.creationSite());
            List<ContextInfo> lineage = task.lineage();
            assertEquals("inventory server", lineage.get(0).label(), lineage.toString());
            ContextInfo request = task.owner();
            assertEquals("WithTimeout", request.kind());
            assertTrue(request.site().startsWith("dev.tether.grpc.TetherServerInterceptor.interceptCall("),
                    request.site());
            assertTrue(request.done());
        }
        String report = text.toString();
        assertTrue(report.contains("2 of 5 backend tasks started through Tether outlived their request"), report);
        assertTrue(report.contains("Tether leak report"), report);
        assertTrue(report.contains("made at dev.tether.examples.Inventory.reserve("), report);
        assertTrue(report.contains("WithCancel \"inventory server\""), report);
        String map = Files.readString(outcome.contextMap());
        assertTrue(map.contains("Inventory.reserve"), "the leaked tasks are in the context map");

        // The chain itself behaved as in normal mode: the leak is only in the backend's own loop.
        assertEquals(200, outcome.scenarios().get(0).status());
        assertEquals(504, outcome.scenarios().get(1).status());
        assertQueryGone(outcome.scenarios().get(1));
        assertQueryGone(outcome.scenarios().get(2));
    }

    @Test
    void onH2_theSameScenariosHold() throws Exception {
        StringBuilder text = new StringBuilder();
        ChainDemo.Outcome outcome = run(new ChainDemo.Options(false, true, output, null), text);

        assertTrue(outcome.ok(), outcome.problems() + "\n" + text);
        assertTrue(outcome.database().startsWith("H2 "), outcome.database());
        assertEquals(504, outcome.scenarios().get(1).status());
        assertQueryGone(outcome.scenarios().get(1));
        assertQueryGone(outcome.scenarios().get(2));
        assertTrue(outcome.leaks().isEmpty(), outcome.leaks().toText());
    }

    @Test
    void unknownArgumentsAreRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ChainDemo.Options.parse(new String[] {"--leaky", "--fast"}, output));

        assertTrue(e.getMessage().contains("'--fast'"), e.getMessage());
        ChainDemo.Options options = ChainDemo.Options.parse(new String[] {"--leaky", "--h2"}, output);
        assertTrue(options.leaky() && options.h2());
        assertNull(options.postgres());
    }

    private static void assertBudgetsShrinkAndTheGatewayIsTheOrigin(ChainDemo.Scenario scenario) {
        assertEquals(HOPS, scenario.hops().stream().map(HopRecord::service).toList());
        Duration gateway = scenario.hop("gateway").budget();
        Duration orders = scenario.hop("orders").budget();
        Duration inventory = scenario.hop(Inventory.SERVICE).budget();
        assertEquals(Chain.GATEWAY_BUDGET.minus(Chain.SERVER_RESERVE), gateway);
        // Each hop gets at most what the one before had, less the client's and its own reserves.
        assertTrue(orders.compareTo(gateway.minus(Chain.CLIENT_RESERVE).minus(Chain.SERVER_RESERVE)) <= 0,
                orders + " vs " + gateway);
        assertTrue(inventory.compareTo(orders.minus(Chain.CLIENT_RESERVE).minus(Chain.INVENTORY_RESERVE)) <= 0,
                inventory + " vs " + orders);
        assertTrue(inventory.compareTo(Duration.ofMillis(500)) > 0, "not all spent on the way: " + inventory);
        assertEquals("server default", scenario.hop("gateway").received());
        assertTrue(scenario.hop("orders").received().endsWith("via tether-budget"), scenario.hop("orders").received());
        assertTrue(scenario.hop(Inventory.SERVICE).received().endsWith("via grpc-timeout"),
                scenario.hop(Inventory.SERVICE).received());
        HOPS.forEach(hop -> assertEquals(ORIGIN, scenario.hop(hop).origin(), hop));
    }

    private static void assertQueryGone(ChainDemo.Scenario scenario) {
        QueryOutcome.Gone gone = scenario.gone();
        assertNotNull(gone, scenario.title() + ": the database was watched after the cancel");
        assertFalse(gone.stillRunning(), scenario.title() + ": " + gone);
        assertTrue(gone.afterCancel().compareTo(Duration.ofSeconds(5)) < 0, gone.afterCancel().toString());
    }

    private static SpanData span(ChainDemo.Scenario scenario, String name) {
        return scenario.spans().stream().filter(s -> s.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(name + " in " + scenario.spans()));
    }
}
