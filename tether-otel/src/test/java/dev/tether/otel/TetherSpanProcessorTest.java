package dev.tether.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ManualTimeSource;
import dev.tether.Scope;
import dev.tether.TaskGroup;
import dev.tether.spi.ContextObservers;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.RequestEndedException;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class TetherSpanProcessorTest {

    private final Tracing tracing = Tracing.withProcessor();
    private final ManualTimeSource time = ManualTimeSource.create();

    @AfterEach
    void tearDown() {
        tracing.close();
        assertSame(Context.background(), Context.current());
    }

    @Test
    void everySpanOpenUnderAContextWhenItsDeadlinePassesRecordsIt() {
        CancellableContext owner = Context.root(time).withTimeout(Duration.ofMillis(300));
        Context request = DeadlineOrigin.parse("gateway/checkout").bindTo(owner);
        Span outer;
        Span inner;
        Span finishedEarly;
        try (Scope s = request.attach()) {
            outer = tracing.start("outer");
            finishedEarly = tracing.start("finished early");
            time.advance(Duration.ofMillis(100));
            inner = tracing.start("inner");
        }
        finishedEarly.end();

        time.advance(Duration.ofMillis(200));
        inner.end();
        outer.end();
        owner.close();

        assertEquals("deadline_exceeded", type("outer"));
        assertEquals("deadline_exceeded", type("inner"));
        assertNull(type("finished early"));
        assertEquals(300L, attribute("outer").get(TetherSpans.DEADLINE_BUDGET_MS));
        assertEquals(200L, attribute("inner").get(TetherSpans.DEADLINE_BUDGET_MS));
        assertEquals("gateway/checkout", attribute("inner").get(TetherSpans.DEADLINE_ORIGIN));
        assertEquals(0, tracing.processor.openBindings());
    }

    @Test
    void aSpanEndedByCodeThatHeardOfTheEndFirstStillRecordsIt() {
        for (int round = 0; round < 200; round++) {
            tracing.exporter.reset();
            CancellableContext ctx = Context.background().withCancel();
            Span span;
            try (Scope s = ctx.attach()) {
                span = tracing.start("work");
            }
            ctx.onDone(span::end, Runnable::run); // in some rounds before the processor's own listener

            ctx.cancel(new IllegalStateException("stop " + round));

            assertEquals("stop " + round, attribute("work").get(TetherSpans.CANCEL_REASON), "round " + round);
        }
        assertEquals(0, tracing.processor.openBindings());
    }

    @Test
    void spansOfARequestThatWasAnsweredRecordNothing() {
        CancellableContext request = Context.background().withCancel();
        Span straggler;
        try (Scope s = request.attach()) {
            straggler = tracing.start("straggler");
        }

        request.cancel(RequestEndedException.responseCompleted());
        straggler.end();

        assertNull(type("straggler"));
        assertEquals(0, tracing.processor.openBindings());
    }

    @Test
    void spansStartedOutsideAnyContextAreNotBound() {
        Span span = tracing.start("outside");

        assertEquals(0, tracing.processor.openBindings());
        span.end();
        assertTrue(tracing.finished("outside").getAttributes().isEmpty());
    }

    @Test
    void nothingIsRetainedOnceSpansEndOrTheirContextEnds() {
        CancellableContext ctx = Context.background().withCancel();
        Span endsFirst;
        Span outlivesContext;
        try (Scope s = ctx.attach()) {
            endsFirst = tracing.start("ends first");
            outlivesContext = tracing.start("outlives");
        }
        assertEquals(2, tracing.processor.openBindings());

        endsFirst.end();
        assertEquals(1, tracing.processor.openBindings());
        ctx.cancel(new IllegalStateException("client went away"));
        assertEquals(0, tracing.processor.openBindings(), "the context's end releases what it recorded");
        outlivesContext.end();

        assertEquals("client went away", attribute("outlives").get(TetherSpans.CANCEL_REASON));
        assertNull(type("ends first"));
    }

    @Test
    void aSpanStartedUnderAContextThatEndedAlreadyRecordsAtOnce() {
        CancellableContext ctx = Context.background().withCancel();
        ctx.cancel(new IllegalStateException("shutting down"));

        Span span;
        try (Scope s = ctx.attach()) {
            span = tracing.start("late");
        }
        span.end();

        assertEquals("shutting down", attribute("late").get(TetherSpans.CANCEL_REASON));
        assertEquals(0, tracing.processor.openBindings());
    }

    @Test
    void withTheBridgeSpansStartedInForksAreBoundToTheForksContext() throws Exception {
        try (ContextObservers.Installation bridge = OtelContextBridge.install();
                CancellableContext request = Context.background().withCancel()) {
            Span parent;
            try (Scope s = request.attach()) {
                parent = tracing.start("request");
            }
            try (io.opentelemetry.context.Scope s = parent.makeCurrent(); TaskGroup group = TaskGroup.open(request)) {
                group.fork(() -> {
                    tracing.start("fork").end(); // ends normally before the failure below
                    return null;
                });
                CountDownLatch siblingStarted = new CountDownLatch(1);
                group.fork(() -> {
                    Span waiting = tracing.start("sibling");
                    siblingStarted.countDown();
                    try {
                        Context.current().done().toCompletableFuture().join(); // cut short by the failure
                    } finally {
                        waiting.end();
                    }
                    return null;
                });
                group.fork(() -> {
                    siblingStarted.await();
                    throw new IllegalStateException("pricing failed");
                });
                try {
                    group.join();
                } catch (java.util.concurrent.ExecutionException expected) {
                    // the pricing failure
                }
            }
            parent.end();
        }

        SpanData sibling = tracing.finished("sibling");
        assertEquals("cancelled", sibling.getAttributes().get(TetherSpans.CANCEL_TYPE));
        assertEquals("pricing failed", sibling.getAttributes().get(TetherSpans.CANCEL_REASON));
        assertEquals(tracing.finished("request").getSpanId(), sibling.getParentSpanId(), "the bridge parented it");
        assertNull(type("request"), "the request's own context was not cancelled");
    }

    private String type(String span) {
        return attribute(span).get(TetherSpans.CANCEL_TYPE);
    }

    private io.opentelemetry.api.common.Attributes attribute(String span) {
        return tracing.finished(span).getAttributes();
    }
}
