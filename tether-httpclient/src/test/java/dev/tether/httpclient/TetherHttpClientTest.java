package dev.tether.httpclient;

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
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.EndedEarly;
import dev.tether.wire.OutboundBudget;
import dev.tether.wire.PeerEndedException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class TetherHttpClientTest {

    private static final OutboundBudget BUDGET = OutboundBudget.builder()
            .perHopReserve(Duration.ofMillis(10)).minBudget(Duration.ofMillis(5)).build();
    private static TestServer server;
    private static HttpClient http1;
    private static HttpClient http2;

    private final ManualTimeSource time = ManualTimeSource.create();

    @BeforeAll
    static void start() throws Exception {
        server = new TestServer();
        http1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        http2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
    }

    @AfterAll
    static void stop() throws Exception {
        http1.close();
        http2.close();
        server.close();
    }

    @AfterEach
    void currentContextIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
        assertFalse(Thread.currentThread().isInterrupted());
    }

    private static TetherHttpClient client(HttpClient http) {
        return TetherHttpClient.builder(http).budget(BUDGET).peer("orders").build();
    }

    private static HttpRequest get(String path) {
        return HttpRequest.newBuilder(server.uri(path)).build();
    }

    @Test
    void sendsTheRemainingBudgetLessTheReserveAndTheOrigin() throws Exception {
        try (CancellableContext request = Context.root(time).withTimeout(Duration.ofMillis(300))) {
            Context ctx = new DeadlineOrigin("gateway", "POST:/checkout").bindTo(request);
            time.advance(Duration.ofMillis(40));

            HttpResponse<String> response = client(http1).send(ctx, get("/echo"), HttpResponse.BodyHandlers.ofString());

            assertEquals("tether-budget=250000u\ngrpc-timeout=250000u\ntether-deadline-origin=gateway/POST:/checkout\n",
                    response.body());
        }
    }

    @Test
    void sendUsesTheCurrentContextAndReplacesBudgetHeadersTheRequestHad() throws Exception {
        try (CancellableContext request = Context.root(time).withTimeout(Duration.ofSeconds(2))) {
            HttpRequest forged = HttpRequest.newBuilder(server.uri("/echo")).header("tether-budget", "99999999H").build();

            HttpResponse<String> response = request.call(
                    () -> client(http1).send(forged, HttpResponse.BodyHandlers.ofString()));

            assertEquals("tether-budget=1990000u\ngrpc-timeout=1990000u\ntether-deadline-origin=null\n", response.body());
        }
    }

    @Test
    void withoutADeadlineNothingIsAdded() throws Exception {
        HttpResponse<String> response = client(http1).send(Context.background(), get("/echo"),
                HttpResponse.BodyHandlers.ofString());

        assertEquals("tether-budget=null\ngrpc-timeout=null\ntether-deadline-origin=null\n", response.body());
    }

    @Test
    void aBudgetBelowTheMinimumFailsWithoutSending() {
        int before = server.requests.get();
        try (CancellableContext request = Context.root(time).withTimeout(Duration.ofMillis(14))) {

            DeadlineExceededException e = assertThrows(DeadlineExceededException.class,
                    () -> client(http1).send(request, get("/echo"), HttpResponse.BodyHandlers.ofString()));

            assertEquals("not sent: 14ms left, less the per-hop reserve of 10ms, is below the minimum of 5ms",
                    e.getMessage());
            assertEquals(before, server.requests.get());
        }
    }

    @Test
    void aDoneContextFailsWithItsErrWithoutSending() {
        int before = server.requests.get();
        CancellableContext request = Context.background().withCancel();
        request.cancel(new IllegalStateException("client went away"));

        ContextCancelledException e = assertThrows(ContextCancelledException.class,
                () -> client(http1).send(request, get("/echo"), HttpResponse.BodyHandlers.ofString()));

        assertSame(request.err(), e);
        assertEquals(before, server.requests.get());
    }

    @Test
    void cancellingTheContextResetsTheHttp2StreamAtOnce() throws Exception {
        try (TestServer own = new TestServer()) {
            http2.send(HttpRequest.newBuilder(own.uri("/echo")).build(), HttpResponse.BodyHandlers.discarding());
            CancellableContext request = Context.background().withCancel();
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            Thread caller = Thread.ofVirtual().start(() -> {
                try {
                    client(http2).send(request, HttpRequest.newBuilder(own.uri("/hang")).build(),
                            HttpResponse.BodyHandlers.ofString());
                } catch (Throwable t) {
                    thrown.set(t);
                }
            });
            assertTrue(own.hangEntered.await(10, TimeUnit.SECONDS));

            request.cancel(new IllegalStateException("gateway client disconnected"));

            assertTrue(own.awaitHangFailed(), "the server saw the stream reset");
            caller.join(10_000);
            assertSame(request.err(), thrown.get());
            assertEquals("gateway client disconnected", thrown.get().getCause().getMessage());
        }
    }

    @Test
    void cancellingTheContextClosesTheHttp1Connection() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            CompletableFuture<Integer> serverSaw = CompletableFuture.supplyAsync(() -> {
                try (Socket socket = listener.accept()) {
                    InputStream in = socket.getInputStream();
                    // Read the request head, answer nothing, and wait for the client to go away.
                    byte[] buffer = new byte[8192];
                    while (true) {
                        int n = in.read(buffer);
                        if (n < 0) {
                            return n;
                        }
                    }
                } catch (IOException e) {
                    return -2;
                }
            });
            CancellableContext request = Context.background().withTimeout(Duration.ofMillis(200));

            Throwable e = assertThrows(Throwable.class, () -> client(http1).send(request,
                    HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + listener.getLocalPort() + "/x"))
                            .build(), HttpResponse.BodyHandlers.ofString()));

            assertInstanceOf(DeadlineExceededException.class, e);
            assertSame(request.err(), e);
            int end = serverSaw.get(10, TimeUnit.SECONDS);
            assertTrue(end == -1 || end == -2, "the connection was closed: " + end);
        }
    }

    @Test
    void interruptingAVirtualThreadInSendAbortsTheExchange() throws Exception {
        try (TestServer own = new TestServer()) {
            http2.send(HttpRequest.newBuilder(own.uri("/echo")).build(), HttpResponse.BodyHandlers.discarding());
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            AtomicReference<Boolean> stillInterrupted = new AtomicReference<>();
            Thread caller = Thread.ofVirtual().start(() -> {
                try {
                    client(http2).send(Context.background(), HttpRequest.newBuilder(own.uri("/hang")).build(),
                            HttpResponse.BodyHandlers.ofString());
                } catch (Throwable t) {
                    thrown.set(t);
                    stillInterrupted.set(Thread.currentThread().isInterrupted());
                }
            });
            assertTrue(own.hangEntered.await(10, TimeUnit.SECONDS));

            caller.interrupt();

            assertTrue(own.awaitHangFailed(), "the server saw the stream reset");
            caller.join(10_000);
            CancellationException e = assertInstanceOf(CancellationException.class, thrown.get());
            assertInstanceOf(InterruptedException.class, e.getCause());
            assertTrue(stillInterrupted.get(), "the interrupt flag stays set for code further up");
        }
    }

    @Test
    void aDownstreamEarlyEndBecomesAPeerEndedException() {
        PeerEndedException e = assertThrows(PeerEndedException.class,
                () -> client(http1).send(Context.background(), get("/ended504"), HttpResponse.BodyHandlers.ofString()));

        assertEquals("orders", e.peer());
        assertEquals(new EndedEarly(EndedEarly.Kind.DEADLINE_EXCEEDED,
                "budget 80ms from gateway/GET:/x ran out at orders/GET:/y"), e.ended());
        assertEquals("orders ended the call early: deadline-exceeded: budget 80ms from gateway/GET:/x ran out at "
                + "orders/GET:/y", e.getMessage());
    }

    @Test
    void theDefaultPeerNameIsHostAndPort() {
        TetherHttpClient anonymous = TetherHttpClient.builder(http1).build();

        PeerEndedException e = assertThrows(PeerEndedException.class, () -> anonymous.send(Context.background(),
                get("/ended504"), HttpResponse.BodyHandlers.ofString()));

        assertEquals("127.0.0.1:" + server.uri("/").getPort(), e.peer());
    }

    @Test
    void aSuccessfulFallbackThatEndedEarlyIsReturnedAsItIs() throws Exception {
        HttpResponse<String> response = client(http1).send(Context.background(), get("/ended200"),
                HttpResponse.BodyHandlers.ofString());

        assertEquals(200, response.statusCode());
        assertEquals(new EndedEarly(EndedEarly.Kind.DEADLINE_EXCEEDED, "stale"), TetherHttpClient.endedEarly(response));
    }

    @Test
    void aMalformedOrMissingEndedHeaderLeavesTheResponseAlone() throws Exception {
        HttpResponse<String> malformed = client(http1).send(Context.background(), get("/malformed"),
                HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> plain = client(http1).send(Context.background(), get("/plain504"),
                HttpResponse.BodyHandlers.ofString());

        assertEquals(504, malformed.statusCode());
        assertNull(TetherHttpClient.endedEarly(malformed));
        assertEquals(504, plain.statusCode());
    }

    @Test
    void sendAsyncFailsWithTheErrWhenTheContextEnds() throws Exception {
        try (TestServer own = new TestServer()) {
            http2.send(HttpRequest.newBuilder(own.uri("/echo")).build(), HttpResponse.BodyHandlers.discarding());
            CancellableContext request = Context.background().withCancel();
            CompletableFuture<HttpResponse<String>> call = client(http2).sendAsync(request,
                    HttpRequest.newBuilder(own.uri("/hang")).build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(own.hangEntered.await(10, TimeUnit.SECONDS));

            request.cancel();

            // The err is a CancellationException: the future counts as cancelled and get() wraps it.
            CancellationException e = assertThrows(CancellationException.class, () -> call.get(10, TimeUnit.SECONDS));
            assertSame(request.err(), e.getCause());
            assertTrue(call.isCancelled());
            assertTrue(own.awaitHangFailed(), "the exchange was aborted");
        }
    }

    @Test
    void cancellingTheAsyncCallAbortsTheExchange() throws Exception {
        try (TestServer own = new TestServer()) {
            http2.send(HttpRequest.newBuilder(own.uri("/echo")).build(), HttpResponse.BodyHandlers.discarding());
            CompletableFuture<HttpResponse<String>> call = client(http2).sendAsync(Context.background(),
                    HttpRequest.newBuilder(own.uri("/hang")).build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(own.hangEntered.await(10, TimeUnit.SECONDS));

            call.cancel(true);

            assertTrue(own.awaitHangFailed());
        }
    }

    @Test
    void sendAsyncOfADoneContextIsAlreadyFailed() {
        CancellableContext request = Context.background().withCancel();
        request.cancel();

        CompletableFuture<HttpResponse<String>> call = client(http1).sendAsync(request, get("/echo"),
                HttpResponse.BodyHandlers.ofString());

        assertTrue(call.isCompletedExceptionally());
    }

    @Test
    void theBodyArrivesIntact() throws Exception {
        try (CancellableContext request = Context.background().withTimeout(Duration.ofSeconds(10))) {
            HttpResponse<byte[]> response = client(http2).send(request, get("/echo"),
                    HttpResponse.BodyHandlers.ofByteArray());

            assertTrue(new String(response.body(), StandardCharsets.US_ASCII).startsWith("tether-budget="));
        }
    }

}
