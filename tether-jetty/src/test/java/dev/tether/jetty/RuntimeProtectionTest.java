package dev.tether.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.Blocking;
import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ContextCancelledException;
import dev.tether.ContextDoneException;
import dev.tether.DeadlineExceededException;
import dev.tether.wire.EndedEarly;
import dev.tether.wire.InboundBudget;
import dev.tether.wire.InboundCall;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Budget exhaustion on a real server: the 504 goes out at once even when the handler is stuck, the handler's thread
 * is interrupted, streaming stops at the next write, and a cancelled server context answers 503. Over HTTP/1.1 and
 * h2c. Bounds are generous (seconds against budgets of a few hundred ms) so the outcome never depends on timing.
 */
@Timeout(60)
class RuntimeProtectionTest {

    private static final HttpClient HTTP1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final HttpClient HTTP2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
    private static final long BOUND_NANOS = TimeUnit.SECONDS.toNanos(5);

    enum Protocol {
        HTTP_1_1(HTTP1), H2C(HTTP2);

        final HttpClient client;

        Protocol(HttpClient client) {
            this.client = client;
        }
    }

    @AfterAll
    static void closeClients() {
        HTTP1.close();
        HTTP2.close();
    }

    private static HttpResponse<String> get(Protocol protocol, Hop hop, String path, String budget) throws Exception {
        if (protocol == Protocol.H2C) {
            // The JDK client reaches h2c by upgrading its first request; after that, requests are HTTP/2 streams.
            protocol.client.send(HttpRequest.newBuilder(hop.uri("/warm-up")).build(),
                    HttpResponse.BodyHandlers.discarding());
        }
        HttpResponse<String> response = protocol.client.send(HttpRequest.newBuilder(hop.uri(path))
                .header("tether-budget", budget).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(protocol == Protocol.H2C ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1,
                response.version());
        return response;
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void aHungHandlerGetsA504InTimeAndItsThreadIsInterruptedAndFreed(Protocol protocol) throws Exception {
        CountDownLatch exited = new CountDownLatch(1);
        AtomicReference<Throwable> handlerSaw = new AtomicReference<>();
        try (Hop hop = Hop.builder("orders").work((call, request) -> {
            if (request.getHttpURI().getPath().equals("/warm-up")) {
                return "warm";
            }
            try {
                new CountDownLatch(1).await(); // hung: nothing will ever count it down
                return "never";
            } catch (InterruptedException e) {
                handlerSaw.set(e);
                throw e;
            } finally {
                exited.countDown();
            }
        }).start()) {
            long start = System.nanoTime();

            HttpResponse<String> response = get(protocol, hop, "/hung", "300m");

            long tookNanos = System.nanoTime() - start;
            assertEquals(504, response.statusCode());
            assertTrue(tookNanos >= TimeUnit.MILLISECONDS.toNanos(300), "not before the budget: " + tookNanos);
            assertTrue(tookNanos < BOUND_NANOS, "504 took " + tookNanos / 1_000_000 + " ms");
            assertEquals("deadline-exceeded; reason=\"budget 300ms from peer/tether-budget ran out at "
                    + "orders/GET:/hung\"", response.headers().firstValue("tether-ended").orElseThrow());
            assertTrue(exited.await(5, TimeUnit.SECONDS), "the handler's thread was freed");
            assertInstanceOf(InterruptedException.class, handlerSaw.get());
            InboundCall call = hop.nextCall("GET:/hung");
            assertTrue(call.isEndedEarly());
            assertTrue(call.interruptedHandler());
        }
    }

    @Test
    void aHandlerThatIgnoresInterruptsStillGetsA504AndItsLateAnswerIsDropped() throws Exception {
        AtomicBoolean release = new AtomicBoolean();
        CountDownLatch lateAnswerFailed = new CountDownLatch(1);
        AtomicReference<Throwable> lateFailure = new AtomicReference<>();
        try (Hop hop = Hop.builder("orders").handler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                while (!release.get()) {
                    Thread.interrupted(); // the worst case: code that swallows interrupts
                    LockSupport.parkNanos(1_000_000);
                }
                response.setStatus(200);
                Content.Sink.write(response, true, "late", Callback.from(callback::succeeded, x -> {
                    lateFailure.set(x);
                    lateAnswerFailed.countDown();
                    callback.failed(x);
                }));
                return true;
            }
        }).start()) {
            long start = System.nanoTime();

            HttpResponse<String> response = get(Protocol.HTTP_1_1, hop, "/stuck", "200m");

            assertTrue(System.nanoTime() - start < BOUND_NANOS);
            assertEquals(504, response.statusCode());
            assertTrue(response.body().startsWith("504 Gateway Timeout: deadline-exceeded: budget 200ms"),
                    response.body());
            release.set(true);
            assertTrue(lateAnswerFailed.await(5, TimeUnit.SECONDS));
            assertInstanceOf(DeadlineExceededException.class, lateFailure.get(), "its write is refused");
        }
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void aStreamingResponseStopsAtTheNextWriteAfterTheBudgetRunsOut(Protocol protocol) throws Exception {
        AtomicInteger events = new AtomicInteger();
        AtomicReference<Throwable> stoppedBy = new AtomicReference<>();
        CountDownLatch stopped = new CountDownLatch(1);
        try (Hop hop = Hop.builder("feed").handler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                if (request.getHttpURI().getPath().equals("/warm-up")) {
                    Content.Sink.write(response, true, "warm", callback);
                    return true;
                }
                response.getHeaders().put("content-type", "text/event-stream");
                try {
                    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                    while (System.nanoTime() < until) {
                        Thread.interrupted(); // only the refused write may stop this loop
                        Content.Sink.write(response, false,
                                ByteBuffer.wrap(("data: " + events.incrementAndGet() + "\n\n").getBytes(
                                        StandardCharsets.US_ASCII)));
                        LockSupport.parkNanos(5_000_000);
                    }
                    callback.succeeded();
                } catch (Throwable t) {
                    stoppedBy.set(t);
                    stopped.countDown();
                    callback.failed(t);
                }
                return true;
            }
        }).start()) {
            if (protocol == Protocol.H2C) {
                protocol.client.send(HttpRequest.newBuilder(hop.uri("/warm-up")).build(),
                        HttpResponse.BodyHandlers.discarding());
            }

            HttpResponse<InputStream> response = protocol.client.send(HttpRequest.newBuilder(hop.uri("/events"))
                    .header("tether-budget", "300m").build(), HttpResponse.BodyHandlers.ofInputStream());

            assertEquals(200, response.statusCode());
            try (InputStream body = response.body()) {
                assertThrows(IOException.class, body::readAllBytes, "the stream is aborted, not ended cleanly");
            }
            assertTrue(stopped.await(5, TimeUnit.SECONDS));
            assertTrue(hasCause(stoppedBy.get(), DeadlineExceededException.class), String.valueOf(stoppedBy.get()));
            int written = events.get();
            assertTrue(written > 1, "it streamed before the budget ran out: " + written);
        }
    }

    @Test
    void cancellingTheServerContextAnswers503ToRequestsInFlight() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        try (CancellableContext server = Context.background().withCancel();
                Hop hop = Hop.builder("orders").parent(server).work((call, request) -> {
                    entered.countDown();
                    Blocking.sleep(Context.current(), Duration.ofSeconds(30));
                    return "never";
                }).start()) {
            var pending = HTTP1.sendAsync(HttpRequest.newBuilder(hop.uri("/slow")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertTrue(entered.await(5, TimeUnit.SECONDS));

            server.cancel(new IllegalStateException("server stopping"));

            HttpResponse<String> response = pending.get(10, TimeUnit.SECONDS);
            assertEquals(503, response.statusCode());
            assertEquals("cancelled; reason=\"server stopping\"",
                    response.headers().firstValue("tether-ended").orElseThrow());
        }
    }

    @Test
    void aConfiguredFallbackAnswersInsteadOfThe504() throws Exception {
        try (Hop hop = Hop.builder("catalog").fallback((request, response, callback, ended) -> {
            response.setStatus(200);
            response.getHeaders().put("tether-ended", ended.headerValue());
            Content.Sink.write(response, true, "stale but fast", callback);
        }).work((call, request) -> {
            Blocking.sleep(Context.current(), Duration.ofSeconds(30));
            return "fresh";
        }).start()) {

            HttpResponse<String> response = get(Protocol.HTTP_1_1, hop, "/items", "100m");

            assertEquals(200, response.statusCode());
            assertEquals("stale but fast", response.body());
            assertEquals(EndedEarly.Kind.DEADLINE_EXCEEDED,
                    EndedEarly.parse(response.headers().firstValue("tether-ended").orElseThrow()).kind());
        }
    }

    @Test
    void theContextSeenByTheHandlerEndsWithTheBudget() throws Exception {
        AtomicReference<ContextDoneException> err = new AtomicReference<>();
        try (Hop hop = Hop.builder("orders").policy(InboundBudget.builder().reserve(Duration.ofMillis(10)).build())
                .work((call, request) -> {
                    try {
                        Blocking.sleep(Context.current(), Duration.ofSeconds(30));
                    } finally {
                        err.set(Context.current().err());
                    }
                    return "never";
                }).start()) {

            assertEquals(504, get(Protocol.HTTP_1_1, hop, "/x", "150m").statusCode());

            InboundCall call = hop.nextCall();
            assertNotNull(err.get());
            assertInstanceOf(DeadlineExceededException.class, err.get());
            assertSame(call.context().err(), err.get());
            assertFalse(call.context().err() instanceof ContextCancelledException);
        }
    }

    static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
        for (int i = 0; t != null && i < 10; i++, t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }
}
