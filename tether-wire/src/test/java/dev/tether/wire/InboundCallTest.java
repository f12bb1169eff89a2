package dev.tether.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ContextCancelledException;
import dev.tether.DeadlineExceededException;
import dev.tether.ManualTimeSource;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class InboundCallTest {

    private static final DeadlineOrigin SELF = new DeadlineOrigin("orders", "GET:/stock");

    private final ManualTimeSource time = ManualTimeSource.create();
    private final Context server = Context.root(time);
    private final InboundBudget policy = InboundBudget.builder()
            .reserve(Duration.ofMillis(50)).minBudget(Duration.ofMillis(10)).timeSource(time).build();
    private final CountDownLatch endedEarly = new CountDownLatch(1);
    private final AtomicInteger earlyActions = new AtomicInteger();

    @AfterEach
    void currentContextIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
        assertFalse(Thread.currentThread().isInterrupted());
    }

    private InboundCall start(String... headers) {
        Map<String, String> map = new java.util.HashMap<>();
        for (int i = 0; i < headers.length; i += 2) {
            map.put(headers[i], headers[i + 1]);
        }
        InboundCall call = InboundCall.start(server, policy.read(map::get), SELF);
        call.onEndedEarly(c -> {
            earlyActions.incrementAndGet();
            endedEarly.countDown();
        });
        return call;
    }

    @Test
    void theContextHasTheBudgetsDeadlineAndNamesItsOrigin() {
        InboundCall call = start("tether-budget", "300m", "tether-deadline-origin", "gateway/checkout");

        assertEquals(Duration.ofMillis(250), call.context().remaining().orElseThrow());
        assertEquals(new DeadlineOrigin("gateway", "checkout"), DeadlineOrigin.from(call.context()));
        assertEquals(new DeadlineOrigin("gateway", "checkout"), call.origin());
        assertTrue(call.complete());
    }

    @Test
    void enterBindsTheContextForTheHandler() {
        InboundCall call = start("tether-budget", "300m");

        try (InboundCall.Entered entered = call.enter()) {
            assertTrue(entered.admitted());
            assertEquals(Duration.ofMillis(250), Context.current().remaining().orElseThrow());
            assertEquals(new DeadlineOrigin("peer", "tether-budget"), DeadlineOrigin.from(Context.current()));
        }
        assertTrue(call.complete());
    }

    @Test
    void completingCancelsWithResponseCompletedAndStopsTheDeadlineTimer() {
        InboundCall call = start("tether-budget", "300m");
        assertEquals(1, time.pendingTimers(), "onEndedEarly waits on the deadline");

        time.advance(Duration.ofMillis(100));
        assertTrue(call.complete());

        assertSame(RequestEndedException.responseCompleted(), call.context().cause());
        assertInstanceOf(ContextCancelledException.class, call.context().err());
        assertEquals(0, time.pendingTimers());
        assertEquals(Duration.ofMillis(100), call.elapsed());
        assertFalse(call.isEndedEarly());
        assertNull(call.endedEarly());
        assertFalse(call.complete(), "only once");
        assertFalse(call.fail(new RuntimeException()));
        time.advance(Duration.ofSeconds(1));
        assertEquals(0, earlyActions.get());
    }

    @Test
    void theDeadlineEndsTheCallEarlyWithAReasonNamingBudgetOriginAndServer() throws Exception {
        InboundCall call = start("tether-budget", "300m", "tether-deadline-origin", "gateway/POST:/checkout");

        time.advance(Duration.ofMillis(250));

        assertTrue(endedEarly.await(5, TimeUnit.SECONDS));
        assertTrue(call.isEndedEarly());
        assertEquals(new EndedEarly(EndedEarly.Kind.DEADLINE_EXCEEDED,
                "budget 250ms from gateway/POST:/checkout ran out at orders/GET:/stock"), call.endedEarly());
        assertFalse(call.complete());
        assertFalse(call.fail(new RuntimeException("late")));
        assertNull(call.failure());
        assertEquals(Duration.ofMillis(250), call.elapsed());
        assertEquals(1, earlyActions.get());
    }

    @Test
    void aBudgetBelowTheMinimumEndsTheCallBeforeTheHandlerRuns() throws Exception {
        InboundCall call = start("tether-budget", "55m");

        try (InboundCall.Entered entered = call.enter()) {
            assertFalse(entered.admitted());
        }
        assertTrue(endedEarly.await(5, TimeUnit.SECONDS));
        assertEquals("deadline-exceeded: budget 5ms from peer/tether-budget is below the minimum at orders/GET:/stock",
                call.endedEarly().toString());
    }

    @Test
    void aClientDisconnectEndsTheCallEarlyWithItsCause() throws Exception {
        InboundCall call = start();

        call.cancel(RequestEndedException.clientDisconnected("EofException: Reset cancel_stream_error"));

        assertTrue(endedEarly.await(5, TimeUnit.SECONDS));
        assertEquals(new EndedEarly(EndedEarly.Kind.CANCELLED,
                "client disconnected: EofException: Reset cancel_stream_error"), call.endedEarly());
        assertEquals(RequestEndedException.Why.CLIENT_DISCONNECTED,
                ((RequestEndedException) call.context().cause()).why());
    }

    @Test
    void aCancelledServerContextEndsEveryCallEarly() throws Exception {
        CancellableContext stopping = server.withCancel();
        InboundCall call = InboundCall.start(stopping, policy.read(h -> null), SELF);
        call.onEndedEarly(c -> endedEarly.countDown());

        stopping.cancel(new IllegalStateException("server stopping"));

        assertTrue(endedEarly.await(5, TimeUnit.SECONDS));
        assertEquals("cancelled: server stopping", call.endedEarly().toString());
    }

    @Test
    void failingRecordsTheExceptionAsTheContextsCause() {
        InboundCall call = start();
        IllegalStateException boom = new IllegalStateException("boom");

        assertTrue(call.fail(boom));

        assertSame(boom, call.failure());
        assertSame(boom, call.context().cause());
        assertFalse(call.isEndedEarly());
        assertEquals(0, time.pendingTimers());
    }

    @Test
    void failingAfterTheContextEndedLeavesTheAnswerToTheEarlyEnd() throws Exception {
        CountDownLatch hold = new CountDownLatch(1);
        CountDownLatch held = new CountDownLatch(1);
        InboundCall call = InboundCall.start(server, policy.read(h -> "100m"), SELF);
        // The early-end action waits, so that fail() meets a done context whose call has not ended yet.
        call.onEndedEarly(c -> {
            try {
                hold.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            held.countDown();
        });
        time.advance(Duration.ofMillis(50));

        boolean failed = call.fail(new RuntimeException("write refused"));
        hold.countDown();

        assertFalse(failed, "the handler's exception is a consequence of the early end");
        assertNull(call.failure());
        assertTrue(held.await(5, TimeUnit.SECONDS));
        assertTrue(call.isEndedEarly());
    }

    @Test
    void theHandlersThreadIsInterruptedWhileInsideAndTheInterruptIsClearedOnLeaving() throws Exception {
        InboundCall call = start();
        CountDownLatch inside = new CountDownLatch(1);
        AtomicReference<Throwable> handlerSaw = new AtomicReference<>();
        AtomicReference<Boolean> interruptedAfterLeaving = new AtomicReference<>();
        Thread handler = Thread.ofPlatform().start(() -> {
            try (InboundCall.Entered entered = call.enter()) {
                inside.countDown();
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                handlerSaw.set(e);
            }
            interruptedAfterLeaving.set(Thread.currentThread().isInterrupted());
        });
        assertTrue(inside.await(5, TimeUnit.SECONDS));

        call.cancel(RequestEndedException.clientDisconnected("gone"));

        handler.join(5_000);
        assertInstanceOf(InterruptedException.class, handlerSaw.get());
        assertFalse(interruptedAfterLeaving.get(), "no interrupt of ours outlives the handler");
        assertTrue(endedEarly.await(5, TimeUnit.SECONDS));
        assertTrue(call.interruptedHandler());
    }

    @Test
    void aHandlerThatAlreadyLeftIsNotInterrupted() throws Exception {
        InboundCall call = start();
        try (InboundCall.Entered entered = call.enter()) {
            assertTrue(entered.admitted());
        }

        call.cancel(RequestEndedException.clientDisconnected("gone"));

        assertTrue(endedEarly.await(5, TimeUnit.SECONDS));
        assertFalse(call.interruptedHandler());
        assertFalse(Thread.currentThread().isInterrupted());
    }

    @Test
    void httpStatusAndEndedBySayWhatAFailureMeans() {
        PeerEndedException peerTimeout = new PeerEndedException("stock",
                new EndedEarly(EndedEarly.Kind.DEADLINE_EXCEEDED, "budget 80ms ran out"), null);
        PeerEndedException peerCancelled = new PeerEndedException("stock",
                new EndedEarly(EndedEarly.Kind.CANCELLED, "shutting down"), null);

        assertEquals(504, InboundCall.httpStatus(peerTimeout));
        assertEquals(504, InboundCall.httpStatus(new UncheckedIOException(new java.io.IOException(peerTimeout))));
        assertEquals(502, InboundCall.httpStatus(peerCancelled));
        assertEquals(504, InboundCall.httpStatus(new DeadlineExceededException("not sent: 3ms left", null)));
        assertEquals(500, InboundCall.httpStatus(new ContextCancelledException()));
        assertEquals(500, InboundCall.httpStatus(new IllegalStateException("bug")));
        assertEquals(new EndedEarly(EndedEarly.Kind.DEADLINE_EXCEEDED,
                "stock ended the call early: deadline-exceeded: budget 80ms ran out"), InboundCall.endedBy(peerTimeout));
        assertEquals(new EndedEarly(EndedEarly.Kind.CANCELLED, "context cancelled"),
                InboundCall.endedBy(new ContextCancelledException()));
        assertNull(InboundCall.endedBy(new IllegalStateException("bug")));
    }

    @Test
    void onEndedEarlyIsRegisteredOnce() {
        InboundCall call = start();

        assertThrows(IllegalStateException.class, () -> call.onEndedEarly(c -> { }));
        call.complete();
    }
}
