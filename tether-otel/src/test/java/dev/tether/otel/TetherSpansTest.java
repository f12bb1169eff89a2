package dev.tether.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ManualTimeSource;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.EndedEarly;
import dev.tether.wire.RequestEndedException;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class TetherSpansTest {

    private final Tracing tracing = Tracing.plain();
    private final ManualTimeSource time = ManualTimeSource.create();

    @AfterEach
    void tearDown() {
        tracing.close();
        assertSame(Context.background(), Context.current());
    }

    @Test
    void cancelWithACauseRecordsTypeReasonErrorTypeEventAndStatus() {
        Span span = tracing.start("work");

        try (CancellableContext ctx = Context.background().withCancel();
                SpanBinding binding = TetherSpans.bind(ctx, span)) {
            ctx.cancel(new IllegalStateException("inventory is down"));
            assertTrue(binding.recorded());
        }
        span.end();

        SpanData data = tracing.finished("work");
        Attributes a = data.getAttributes();
        assertEquals("cancelled", a.get(TetherSpans.CANCEL_TYPE));
        assertEquals("inventory is down", a.get(TetherSpans.CANCEL_REASON));
        assertEquals("dev.tether.ContextCancelledException", a.get(TetherSpans.ERROR_TYPE));
        assertNull(a.get(TetherSpans.DEADLINE_BUDGET_MS), "no deadline, no budget");
        assertNull(a.get(TetherSpans.DEADLINE_ORIGIN));
        assertNull(a.get(TetherSpans.RPC_RESPONSE_STATUS_CODE), "not an RPC span");
        EventData event = onlyEvent(data);
        assertEquals(TetherSpans.CANCELLED_EVENT, event.getName());
        assertEquals("cancelled", event.getAttributes().get(TetherSpans.CANCEL_TYPE));
        assertEquals("inventory is down", event.getAttributes().get(TetherSpans.CANCEL_REASON));
        assertEquals(StatusCode.ERROR, data.getStatus().getStatusCode());
        assertEquals("inventory is down", data.getStatus().getDescription());
    }

    @Test
    void cancelWithoutACauseGivesTheErrorsOwnMessage() {
        Span span = tracing.start("work");
        CancellableContext ctx = Context.background().withCancel();
        SpanBinding binding = TetherSpans.bind(ctx, span);

        ctx.cancel();
        binding.close();
        span.end();

        assertEquals("context cancelled", tracing.finished("work").getAttributes().get(TetherSpans.CANCEL_REASON));
    }

    @Test
    void deadlineRecordsDeadlineExceededWithTheBudgetAndOriginAtTheMomentTheTimerFires() {
        DeadlineOrigin gateway = DeadlineOrigin.parse("gateway/POST:/checkout");
        CancellableContext owner = Context.root(time).withTimeout(Duration.ofMillis(250));
        Context request = gateway.bindTo(owner);
        time.advance(Duration.ofMillis(50));
        Span span = tracing.start("handler");
        SpanBinding binding = TetherSpans.bind(request, span);

        time.advance(Duration.ofMillis(199));
        boolean beforeDeadline = binding.recorded();
        time.advance(Duration.ofMillis(1)); // the deadline's timer runs here, on this thread
        boolean atDeadline = binding.recorded();
        binding.close();
        span.end();
        owner.close();

        assertFalse(beforeDeadline);
        assertTrue(atDeadline);
        Attributes a = tracing.finished("handler").getAttributes();
        assertEquals("deadline_exceeded", a.get(TetherSpans.CANCEL_TYPE));
        assertEquals("context deadline exceeded", a.get(TetherSpans.CANCEL_REASON));
        assertEquals("gateway/POST:/checkout", a.get(TetherSpans.DEADLINE_ORIGIN));
        assertEquals(200L, a.get(TetherSpans.DEADLINE_BUDGET_MS), "the remaining time when the span was bound");
        assertEquals("dev.tether.DeadlineExceededException", a.get(TetherSpans.ERROR_TYPE));
        assertEquals(TetherSpans.CANCELLED_EVENT, onlyEvent(tracing.finished("handler")).getName());
    }

    @Test
    void anOriginForAnEarlierDeadlineIsNotReported() {
        CancellableContext owner = Context.root(time).withTimeout(Duration.ofMillis(250));
        Context request = DeadlineOrigin.parse("gateway").bindTo(owner);
        CancellableContext tighter = request.withTimeout(Duration.ofMillis(10)); // set here, by nobody named
        Span span = tracing.start("step");
        SpanBinding binding = TetherSpans.bind(tighter, span);

        time.advance(Duration.ofMillis(10));
        binding.close();
        span.end();
        owner.close();

        Attributes a = tracing.finished("step").getAttributes();
        assertEquals("deadline_exceeded", a.get(TetherSpans.CANCEL_TYPE));
        assertEquals(10L, a.get(TetherSpans.DEADLINE_BUDGET_MS));
        assertNull(a.get(TetherSpans.DEADLINE_ORIGIN));
    }

    @Test
    void normalCompletionRecordsNothingEvenIfTheContextEndsAfterwards() {
        Span span = tracing.start("work");
        CancellableContext ctx = Context.root(time).withTimeout(Duration.ofMillis(100));

        try (SpanBinding binding = TetherSpans.bind(ctx, span)) {
            time.advance(Duration.ofMillis(10));
        }
        span.end();
        ctx.cancel(new IllegalStateException("later"));
        time.advance(Duration.ofSeconds(1));

        SpanData data = tracing.finished("work");
        assertTrue(data.getAttributes().isEmpty(), data.getAttributes().toString());
        assertTrue(data.getEvents().isEmpty());
        assertEquals(StatusCode.UNSET, data.getStatus().getStatusCode());
    }

    @Test
    void closingTheBindingReleasesItsRegistrationSoTheContextRunsNoTimerForIt() {
        CancellableContext ctx = Context.root(time).withTimeout(Duration.ofMillis(100));
        SpanBinding binding = TetherSpans.bind(ctx, tracing.start("work"));
        assertEquals(1, time.pendingTimers(), "waiting on the deadline arms its timer");

        binding.close();
        binding.close(); // idempotent
        ctx.close();

        assertEquals(0, time.pendingTimers());
        assertFalse(binding.recorded());
    }

    @Test
    void bindingAContextThatIsDoneAlreadyRecordsAtOnce() {
        CancellableContext ctx = Context.background().withCancel();
        ctx.cancel(new RuntimeException("gone"));
        Span span = tracing.start("late");

        SpanBinding binding = TetherSpans.bind(ctx, span);

        assertTrue(binding.recorded());
        span.end();
        assertEquals("gone", tracing.finished("late").getAttributes().get(TetherSpans.CANCEL_REASON));
    }

    @Test
    void workThatLearnsOfTheEndFirstAndClosesStillGetsItRecorded() {
        // The context's listeners run in no set order: in some rounds the "work" below hears of the end before
        // the binding does and closes it (then ends the span) before the binding's own listener has run.
        for (int round = 0; round < 200; round++) {
            tracing.exporter.reset();
            Span span = tracing.start("work");
            CancellableContext ctx = Context.background().withCancel();
            SpanBinding binding = TetherSpans.bind(ctx, span);
            ctx.onDone(() -> {
                binding.close();
                span.end();
            }, Runnable::run);

            ctx.cancel(new IllegalStateException("stop " + round));

            assertEquals("stop " + round, tracing.finished("work").getAttributes().get(TetherSpans.CANCEL_REASON),
                    "round " + round);
        }
    }

    @Test
    void aRequestEndedBecauseItWasAnsweredIsNotACancellation() {
        Span span = tracing.start("handler");
        CancellableContext ctx = Context.background().withCancel();
        SpanBinding binding = TetherSpans.bind(ctx, span);

        ctx.cancel(RequestEndedException.responseCompleted()); // what a server does once the response is complete
        binding.close();
        span.end();

        assertFalse(binding.recorded());
        assertFalse(TetherSpans.recordCancellation(ctx, span));
        assertTrue(tracing.finished("handler").getAttributes().isEmpty());
        assertTrue(tracing.finished("handler").getEvents().isEmpty());
    }

    @Test
    void aClientThatWentAwayIsACancellation() {
        Span span = tracing.start("handler");
        CancellableContext ctx = Context.background().withCancel();

        ctx.cancel(RequestEndedException.clientDisconnected("connection reset"));
        TetherSpans.recordCancellation(ctx, span);
        span.end();

        assertEquals("client disconnected: connection reset",
                tracing.finished("handler").getAttributes().get(TetherSpans.CANCEL_REASON));
    }

    @Test
    void recordCancellationOnALiveContextRecordsNothing() {
        Span span = tracing.start("work");

        try (CancellableContext ctx = Context.background().withCancel()) {
            assertFalse(TetherSpans.recordCancellation(ctx, span));
        }
        span.end();

        assertTrue(tracing.finished("work").getAttributes().isEmpty());
    }

    @Test
    void recordCancellationWithAnExplicitBudget() {
        Span span = tracing.start("work");
        CancellableContext ctx = Context.background().withCancel();
        ctx.cancel();

        assertTrue(TetherSpans.recordCancellation(ctx, span, Duration.ofMillis(1500)));
        span.end();

        assertEquals(1500L, tracing.finished("work").getAttributes().get(TetherSpans.DEADLINE_BUDGET_MS));
    }

    @Test
    void theReasonIsBoundedAndSafeWhateverTheCauseSays() {
        Span span = tracing.start("work");
        CancellableContext ctx = Context.background().withCancel();
        ctx.cancel(new IllegalStateException("line one\r\nline two \u0000 " + "x".repeat(100_000)));

        TetherSpans.recordCancellation(ctx, span);
        span.end();

        String reason = tracing.finished("work").getAttributes().get(TetherSpans.CANCEL_REASON);
        assertEquals(EndedEarly.MAX_REASON, reason.length());
        assertTrue(reason.startsWith("line one line two "), reason);
        assertTrue(reason.endsWith("..."));
        assertTrue(reason.chars().allMatch(c -> c >= 0x20 && c < 0x7f), reason);
    }

    @Test
    void aCauseWithoutAMessageIsNamedByItsClass() {
        Span span = tracing.start("work");
        CancellableContext ctx = Context.background().withCancel();
        ctx.cancel(new java.util.concurrent.TimeoutException());

        TetherSpans.recordCancellation(ctx, span);
        span.end();

        assertEquals("TimeoutException", tracing.finished("work").getAttributes().get(TetherSpans.CANCEL_REASON));
    }

    @Test
    void grpcSpansGetTheRpcStatusCode() {
        Span deadline = tracing.tracer.spanBuilder("grpc deadline").setAttribute("rpc.system", "grpc").startSpan();
        Span cancelled = tracing.tracer.spanBuilder("grpc cancel")
                .setAttribute(AttributeKey.stringKey("rpc.system.name"), "grpc").startSpan();
        Span connect = tracing.tracer.spanBuilder("connect").setAttribute("rpc.system", "connect_rpc").startSpan();
        Span other = tracing.tracer.spanBuilder("rmi").setAttribute("rpc.system", "java_rmi").startSpan();
        CancellableContext timedOut = Context.root(time).withTimeout(Duration.ofMillis(1));
        time.advance(Duration.ofMillis(1));
        CancellableContext stopped = Context.background().withCancel();
        stopped.cancel();

        TetherSpans.recordCancellation(timedOut, deadline);
        TetherSpans.recordCancellation(stopped, cancelled);
        TetherSpans.recordCancellation(timedOut, connect);
        TetherSpans.recordCancellation(stopped, other);
        List.of(deadline, cancelled, connect, other).forEach(Span::end);

        assertEquals("DEADLINE_EXCEEDED", rpcCode("grpc deadline"));
        assertEquals("CANCELLED", rpcCode("grpc cancel"));
        assertEquals("deadline_exceeded", rpcCode("connect"));
        assertNull(rpcCode("rmi"));
    }

    @Test
    void aSpanThatDoesNotRecordIsLeftAlone() {
        CancellableContext ctx = Context.background().withCancel();
        ctx.cancel();

        assertTrue(TetherSpans.recordCancellation(ctx, Span.getInvalid()));
        try (SpanBinding binding = TetherSpans.bind(ctx, Span.getInvalid())) {
            assertTrue(binding.recorded());
        }
    }

    @Test
    void nullArgumentsAreRejectedByName() {
        Span span = Span.getInvalid();
        Context ctx = Context.background();

        assertEquals("context must not be null",
                assertThrows(NullPointerException.class, () -> TetherSpans.bind(null, span)).getMessage());
        assertEquals("span must not be null",
                assertThrows(NullPointerException.class, () -> TetherSpans.bind(ctx, null)).getMessage());
        assertEquals("context must not be null", assertThrows(NullPointerException.class,
                () -> TetherSpans.recordCancellation(null, span)).getMessage());
        assertEquals("span must not be null", assertThrows(NullPointerException.class,
                () -> TetherSpans.recordCancellation(ctx, null, Duration.ZERO)).getMessage());
    }

    @Test
    void aBindingRacingItsCancelWritesEverythingOrNothingAndNothingAfterClose() throws Exception {
        long budget = Long.getLong("tether.stress.millis", 1500);
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(budget);
        // One canceller thread for all rounds, released by a spin handshake so that both sides start within
        // nanoseconds of each other; a random spin on this side sweeps close() across the cancel's window.
        AtomicReference<CancellableContext> target = new AtomicReference<>();
        AtomicInteger released = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        Thread canceller = Thread.ofPlatform().daemon().start(() -> {
            for (int round = 1; ; round++) {
                while (released.get() < round) {
                    if (stop.get()) {
                        return;
                    }
                    Thread.onSpinWait();
                }
                target.get().cancel(new IllegalStateException("raced"));
                done.set(round);
            }
        });
        int rounds = 0;
        int recorded = 0;
        try {
            while (System.nanoTime() - end < 0 && rounds < 200_000) {
                tracing.exporter.reset();
                Span span = tracing.start("raced");
                CancellableContext ctx = Context.background().withCancel();
                SpanBinding binding = TetherSpans.bind(ctx, span);
                target.set(ctx);
                int round = rounds + 1;

                released.set(round);
                for (int spin = ThreadLocalRandom.current().nextInt(400); spin > 0; spin--) {
                    Thread.onSpinWait();
                }
                binding.close();
                boolean sawRecorded = binding.recorded();
                span.end(); // what the binding wrote after close() would be lost, and the checks below would see it
                while (done.get() < round) {
                    Thread.onSpinWait();
                }

                SpanData data = tracing.finished("raced");
                if (sawRecorded) {
                    recorded++;
                    assertEquals(3, data.getAttributes().size(), "round " + round + ": " + data.getAttributes());
                    assertEquals(1, data.getEvents().size(), "round " + round);
                    assertEquals(StatusCode.ERROR, data.getStatus().getStatusCode());
                } else {
                    assertEquals(0, data.getAttributes().size(), "round " + round + ": " + data.getAttributes());
                    assertTrue(data.getEvents().isEmpty(), "round " + round);
                }
                rounds = round;
            }
        } finally {
            stop.set(true);
            canceller.join(10_000);
        }
        assertTrue(rounds > 0);
        // Which side wins varies by round; the checks above hold for both.
        System.out.println("binding vs cancel: " + rounds + " rounds, " + recorded + " recorded");
    }

    private String rpcCode(String span) {
        return tracing.finished(span).getAttributes().get(TetherSpans.RPC_RESPONSE_STATUS_CODE);
    }

    private static EventData onlyEvent(SpanData data) {
        assertEquals(1, data.getEvents().size(), data.getEvents().toString());
        return data.getEvents().get(0);
    }
}
