package dev.tether.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.Blocking;
import dev.tether.Context;
import dev.tether.ContextCancelledException;
import dev.tether.wire.InboundCall;
import dev.tether.wire.RequestEndedException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A client that goes away: over HTTP/2 the stream reset reaches the request's context within milliseconds; over
 * HTTP/1.1 Jetty does not read the connection while a handler runs, so the disconnect is found at the first write
 * that fails. Both end the context with {@link RequestEndedException.Why#CLIENT_DISCONNECTED}.
 */
@Timeout(60)
class DisconnectTest {

    @Test
    void anHttp2StreamResetCancelsTheRequestsContextAtOnce() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        AtomicReference<Throwable> cause = new AtomicReference<>();
        AtomicLong endedAt = new AtomicLong();
        CountDownLatch exited = new CountDownLatch(1);
        try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
                Hop hop = Hop.builder("orders").work((call, request) -> {
                    if (request.getHttpURI().getPath().equals("/warm-up")) {
                        return "warm";
                    }
                    entered.countDown();
                    try {
                        Blocking.sleep(Context.current(), Duration.ofSeconds(30)); // returns by throwing when done
                        return "never";
                    } finally {
                        endedAt.set(System.nanoTime());
                        cause.set(Context.current().cause());
                        exited.countDown();
                    }
                }).start()) {
            HttpResponse<Void> warm = client.send(HttpRequest.newBuilder(hop.uri("/warm-up")).build(),
                    HttpResponse.BodyHandlers.discarding());
            assertEquals(HttpClient.Version.HTTP_2, warm.version(), "h2c upgrade");
            CompletableFuture<HttpResponse<String>> pending = client.sendAsync(
                    HttpRequest.newBuilder(hop.uri("/slow")).header("tether-budget", "30S").build(),
                    HttpResponse.BodyHandlers.ofString());
            assertTrue(entered.await(5, TimeUnit.SECONDS));

            long cancelledAt = System.nanoTime();
            pending.cancel(true); // the JDK client resets the HTTP/2 stream

            assertTrue(exited.await(5, TimeUnit.SECONDS), "the handler heard of the reset");
            RequestEndedException ended = assertInstanceOf(RequestEndedException.class, cause.get());
            assertEquals(RequestEndedException.Why.CLIENT_DISCONNECTED, ended.why());
            long millis = TimeUnit.NANOSECONDS.toMillis(endedAt.get() - cancelledAt);
            assertTrue(millis < 5_000, "took " + millis + " ms");
            System.out.printf("h2c: stream reset reached the handler in %.2f ms (%s)%n",
                    (endedAt.get() - cancelledAt) / 1e6, ended.getMessage());
            InboundCall call = hop.nextCall("GET:/slow");
            assertTrue(call.isEndedEarly());
            assertEquals("cancelled: client disconnected: " + ended.getMessage().substring(
                    "client disconnected: ".length()), call.endedEarly().toString());
        }
    }

    @ParameterizedTest(name = "closed with reset: {0}")
    @ValueSource(booleans = {true, false})
    void anHttp1DisconnectIsFoundAtTheFirstWriteThatFails(boolean reset) throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch clientGone = new CountDownLatch(1);
        AtomicBoolean doneBeforeWriting = new AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicInteger writesBeforeFailure = new java.util.concurrent.atomic.AtomicInteger();
        AtomicReference<Throwable> cause = new AtomicReference<>();
        CountDownLatch exited = new CountDownLatch(1);
        try (Hop hop = Hop.builder("orders").handler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                entered.countDown();
                Context ctx = Context.current();
                try {
                    clientGone.await(10, TimeUnit.SECONDS);
                    // The limit this test pins down: with the client gone, nothing has told the context yet.
                    doneBeforeWriting.set(ctx.isDone());
                    ByteBuffer chunk = ByteBuffer.allocate(16 * 1024);
                    for (int i = 0; i < 10_000 && !ctx.isDone(); i++) {
                        Content.Sink.write(response, false, chunk.duplicate());
                        writesBeforeFailure.incrementAndGet();
                    }
                    callback.succeeded();
                } catch (Throwable t) {
                    callback.failed(t);
                } finally {
                    cause.set(ctx.cause());
                    exited.countDown();
                }
                return true;
            }
        }).start()) {
            try (Socket socket = new Socket("127.0.0.1", hop.port())) {
                OutputStream out = socket.getOutputStream();
                out.write(("GET /download HTTP/1.1\r\nHost: 127.0.0.1\r\ntether-budget: 30S\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                assertTrue(entered.await(5, TimeUnit.SECONDS));
                if (reset) {
                    socket.setSoLinger(true, 0); // close with a reset, as a crashed client's kernel would
                }
            }
            clientGone.countDown();

            assertTrue(exited.await(10, TimeUnit.SECONDS));
            assertFalse(doneBeforeWriting.get(), "HTTP/1.1: Jetty does not notice a disconnect before a write");
            RequestEndedException ended = assertInstanceOf(RequestEndedException.class, cause.get());
            assertEquals(RequestEndedException.Why.CLIENT_DISCONNECTED, ended.why());
            assertTrue(ended.getMessage().startsWith("client disconnected: write failed: "), ended.getMessage());
            System.out.printf("HTTP/1.1 (%s): disconnect found after %d successful 16 KiB writes (%s)%n",
                    reset ? "RST" : "FIN", writesBeforeFailure.get(), ended.getMessage());
            InboundCall call = hop.nextCall("GET:/download");
            assertInstanceOf(ContextCancelledException.class, call.context().err());
        }
    }
}
