package dev.tether.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.DeadlineExceededException;
import dev.tether.ManualTimeSource;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class OutboundBudgetTest {

    private final ManualTimeSource time = ManualTimeSource.create();
    private final Context root = Context.root(time);
    private final OutboundBudget policy = OutboundBudget.builder()
            .perHopReserve(Duration.ofMillis(10))
            .minBudget(Duration.ofMillis(5))
            .build();

    @Test
    void sendsTheRemainingBudgetLessTheReserveWithTheBoundOrigin() {
        try (CancellableContext request = root.withTimeout(Duration.ofMillis(300))) {
            Context ctx = new DeadlineOrigin("gateway", "checkout").bindTo(request);
            time.advance(Duration.ofMillis(40));

            OutboundBudget.Plan plan = policy.plan(ctx);

            assertFalse(plan.mustFailFast());
            assertEquals(Duration.ofMillis(250), plan.budget());
            assertEquals(Map.of("tether-budget", "250000u", "grpc-timeout", "250000u",
                    "tether-deadline-origin", "gateway/checkout"), plan.headers());
        }
    }

    @Test
    void whatIsSentReadsBackAsTheSameBudgetOnTheNextHop() {
        try (CancellableContext request = root.withTimeout(Duration.ofMillis(1234))) {
            OutboundBudget.Plan plan = policy.plan(new DeadlineOrigin("gw", "op").bindTo(request));

            InboundBudget.Result next = InboundBudget.builder().build().read(plan.headers()::get);

            assertEquals(Duration.ofMillis(1224), next.budget());
            assertEquals(new DeadlineOrigin("gw", "op"), next.origin(new DeadlineOrigin("self", "")));
        }
    }

    @Test
    void noDeadlineSendsNothing() {
        OutboundBudget.Plan plan = policy.plan(root);

        assertFalse(plan.mustFailFast());
        assertNull(plan.budget());
        assertTrue(plan.headers().isEmpty());
    }

    @Test
    void aBudgetBelowTheMinimumFailsFastWithoutHeaders() {
        try (CancellableContext request = root.withTimeout(Duration.ofMillis(14))) {
            OutboundBudget.Plan plan = policy.plan(request);

            assertTrue(plan.mustFailFast());
            assertInstanceOf(DeadlineExceededException.class, plan.failure());
            assertEquals("not sent: 14ms left, less the per-hop reserve of 10ms, is below the minimum of 5ms",
                    plan.failure().getMessage());
            assertTrue(plan.headers().isEmpty());
            assertFalse(request.isDone(), "the caller's context is not ended by a plan");
        }
    }

    @Test
    void aBudgetAllSpentOnTheReserveFailsFastEvenWithoutAMinimum() {
        OutboundBudget noMinimum = OutboundBudget.builder().perHopReserve(Duration.ofMillis(10)).build();
        try (CancellableContext request = root.withTimeout(Duration.ofMillis(10))) {
            assertTrue(noMinimum.plan(request).mustFailFast());
        }
    }

    @Test
    void aDoneContextFailsFastWithItsOwnErr() {
        CancellableContext request = root.withCancel();
        request.cancel(new IllegalStateException("client went away"));

        OutboundBudget.Plan plan = policy.plan(request);

        assertSame(request.err(), plan.failure());
    }

    @Test
    void aLocallyTightenedDeadlineIsNamedByTheLocalOrigin() {
        DeadlineOrigin self = new DeadlineOrigin("orders", "");
        OutboundBudget withSelf = OutboundBudget.builder().localOrigin(self).grpcTimeout(false).build();
        try (CancellableContext request = root.withTimeout(Duration.ofSeconds(2))) {
            Context ctx = new DeadlineOrigin("gateway", "checkout").bindTo(request);
            try (CancellableContext tighter = ctx.withTimeout(Duration.ofMillis(100))) {

                OutboundBudget.Plan plan = withSelf.plan(tighter);

                assertEquals(self, plan.origin());
                assertEquals(Map.of("tether-budget", "100000u", "tether-deadline-origin", "orders"), plan.headers());
                assertNull(policy.plan(tighter).origin(), "without a local origin nobody is named");
            }
        }
    }
}
