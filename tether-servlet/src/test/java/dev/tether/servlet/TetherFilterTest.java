package dev.tether.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.Blocking;
import dev.tether.Context;
import dev.tether.DeadlineExceededException;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.EndedEarly;
import dev.tether.wire.InboundBudget;
import dev.tether.wire.InboundCall;
import dev.tether.wire.PeerEndedException;
import dev.tether.wire.RequestEndedException;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The filter on Jetty's ee10 Servlet 6 environment, over HTTP/1.1 and h2c on loopback. */
@Timeout(60)
class TetherFilterTest {

    private static final HttpClient HTTP1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final long BOUND_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final InboundBudget POLICY = InboundBudget.builder()
            .maxBudget(Duration.ofSeconds(20)).reserve(Duration.ofMillis(50)).build();

    private final BlockingQueue<InboundCall> calls = new LinkedBlockingQueue<>();

    @AfterAll
    static void closeClient() {
        HTTP1.close();
    }

    private TetherFilter filter() {
        return TetherFilter.builder("orders").policy(POLICY).observer(calls::add).build();
    }

    private static HttpServlet servlet(ServletBody body) {
        return new HttpServlet() {
            @Override
            protected void service(HttpServletRequest req, HttpServletResponse resp)
                    throws ServletException, IOException {
                body.run(req, resp);
            }
        };
    }

    @FunctionalInterface
    interface ServletBody {
        void run(HttpServletRequest req, HttpServletResponse resp) throws ServletException, IOException;
    }

    private static HttpResponse<String> get(HttpClient client, ServletHop hop, String path, String... headers)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(hop.uri(path)).timeout(Duration.ofSeconds(30));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private InboundCall nextCall() throws InterruptedException {
        InboundCall call = calls.poll(10, TimeUnit.SECONDS);
        if (call == null) {
            throw new AssertionError("no call observed within 10 s");
        }
        return call;
    }

    @Test
    void theServletRunsUnderTheBudgetAndOriginAndTheContextEndsWithTheResponse() throws Exception {
        AtomicReference<Duration> remaining = new AtomicReference<>();
        AtomicReference<Context> seen = new AtomicReference<>();
        try (ServletHop hop = ServletHop.start(filter(), servlet((req, resp) -> {
            seen.set(Context.current());
            remaining.set(Context.current().remaining().orElseThrow());
            resp.getWriter().print("ok " + DeadlineOrigin.from(Context.current()));
        }))) {

            HttpResponse<String> response = get(HTTP1, hop, "/stock", "tether-budget", "2S",
                    "tether-deadline-origin", "gateway/POST:/checkout");

            assertEquals(200, response.statusCode());
            assertEquals("ok gateway/POST:/checkout", response.body());
            assertTrue(remaining.get().compareTo(Duration.ofMillis(1950)) <= 0);
            assertTrue(remaining.get().compareTo(Duration.ofMillis(950)) > 0);
            InboundCall call = nextCall();
            assertSame(RequestEndedException.responseCompleted(), seen.get().cause());
            assertEquals(new DeadlineOrigin("orders", "GET:/stock"), call.self());
        }
    }

    @ParameterizedTest(name = "h2c: {0}")
    @ValueSource(booleans = {false, true})
    void aHungServletGetsA504InTimeAndItsThreadIsInterruptedAndFreed(boolean h2c) throws Exception {
        CountDownLatch exited = new CountDownLatch(1);
        AtomicReference<Throwable> servletSaw = new AtomicReference<>();
        try (HttpClient client = HttpClient.newBuilder()
                .version(h2c ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1).build();
                ServletHop hop = ServletHop.start(filter(), servlet((req, resp) -> {
                    if (req.getRequestURI().equals("/warm-up")) {
                        return;
                    }
                    try {
                        new CountDownLatch(1).await();
                    } catch (InterruptedException e) {
                        servletSaw.set(e);
                        throw new ServletException(e);
                    } finally {
                        exited.countDown();
                    }
                }))) {
            if (h2c) {
                assertEquals(HttpClient.Version.HTTP_2, get(client, hop, "/warm-up").version());
            }
            long start = System.nanoTime();

            HttpResponse<String> response = get(client, hop, "/hung", "tether-budget", "300m");

            assertTrue(System.nanoTime() - start < BOUND_NANOS);
            assertEquals(504, response.statusCode());
            assertEquals("deadline-exceeded; reason=\"budget 250ms from peer/tether-budget ran out at orders/GET:/hung\"",
                    response.headers().firstValue("tether-ended").orElseThrow());
            assertEquals("504 Gateway Timeout: deadline-exceeded: budget 250ms from peer/tether-budget ran out at "
                    + "orders/GET:/hung\n", response.body());
            assertTrue(exited.await(5, TimeUnit.SECONDS));
            assertInstanceOf(InterruptedException.class, servletSaw.get());
        }
    }

    @Test
    void aServletThatIgnoresInterruptsStillGetsA504AndItsLateWritesAreRefused() throws Exception {
        AtomicReference<Boolean> release = new AtomicReference<>(false);
        AtomicReference<IOException> lateWrite = new AtomicReference<>();
        CountDownLatch late = new CountDownLatch(1);
        try (ServletHop hop = ServletHop.start(filter(), servlet((req, resp) -> {
            while (!release.get()) {
                Thread.interrupted();
                LockSupport.parkNanos(1_000_000);
            }
            try {
                resp.setStatus(200);
                resp.getOutputStream().write("late".getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                lateWrite.set(e);
                throw e;
            } finally {
                late.countDown();
            }
        }))) {
            long start = System.nanoTime();

            HttpResponse<String> response = get(HTTP1, hop, "/stuck", "tether-budget", "200m");

            assertTrue(System.nanoTime() - start < BOUND_NANOS);
            assertEquals(504, response.statusCode());
            release.set(true);
            assertTrue(late.await(5, TimeUnit.SECONDS));
            assertInstanceOf(DeadlineExceededException.class, lateWrite.get().getCause());
        }
    }

    @Test
    void anUncaughtExceptionBecomesA500WithoutAStackTrace() throws Exception {
        IllegalStateException boom = new IllegalStateException("secret internal detail");
        try (ServletHop hop = ServletHop.start(filter(), servlet((req, resp) -> {
            resp.setHeader("x-partial", "yes");
            throw boom;
        }))) {

            HttpResponse<String> response = get(HTTP1, hop, "/x");

            assertEquals(500, response.statusCode());
            assertEquals("500 Internal Server Error\n", response.body());
            assertTrue(response.headers().firstValue("x-partial").isEmpty(), "the failed servlet's headers are reset");
            InboundCall call = nextCall();
            assertSame(boom, call.failure());
            assertSame(boom, call.context().cause());
        }
    }

    @Test
    void aDownstreamTimeoutBecomesA504CarryingTheChain() throws Exception {
        try (ServletHop hop = ServletHop.start(filter(), servlet((req, resp) -> {
            throw new ServletException(new PeerEndedException("stock",
                    new EndedEarly(EndedEarly.Kind.DEADLINE_EXCEEDED, "budget 80ms ran out at stock/GET:/level"), null));
        }))) {

            HttpResponse<String> response = get(HTTP1, hop, "/x");

            assertEquals(504, response.statusCode());
            assertEquals("deadline-exceeded; reason=\"stock ended the call early: deadline-exceeded: budget 80ms ran "
                    + "out at stock/GET:/level\"", response.headers().firstValue("tether-ended").orElseThrow());
        }
    }

    @Test
    void aBudgetBelowTheMinimumIsAnsweredWithoutRunningTheServlet() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        TetherFilter filter = TetherFilter.builder("orders")
                .policy(InboundBudget.builder().minBudget(Duration.ofMillis(10)).build()).build();
        try (ServletHop hop = ServletHop.start(filter, servlet((req, resp) -> ran.incrementAndGet()))) {

            HttpResponse<String> response = get(HTTP1, hop, "/x", "grpc-timeout", "5m");

            assertEquals(504, response.statusCode());
            assertEquals(0, ran.get());
        }
    }

    @Test
    void aStreamingServletStopsAtTheNextWriteAndTheResponseIsAborted() throws Exception {
        AtomicInteger events = new AtomicInteger();
        AtomicReference<Boolean> writerError = new AtomicReference<>();
        CountDownLatch stopped = new CountDownLatch(1);
        try (ServletHop hop = ServletHop.start(filter(), servlet((req, resp) -> {
            resp.setContentType("text/event-stream");
            PrintWriter out = resp.getWriter();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            try {
                while (System.nanoTime() < until) {
                    Thread.interrupted(); // only the refused write may stop this loop
                    out.print("data: " + events.incrementAndGet() + "\n\n");
                    out.flush();
                    if (out.checkError()) {
                        writerError.set(true);
                        return;
                    }
                    LockSupport.parkNanos(5_000_000);
                }
            } finally {
                stopped.countDown();
            }
        }))) {

            HttpResponse<InputStream> response = HTTP1.send(HttpRequest.newBuilder(hop.uri("/events"))
                    .header("tether-budget", "300m").build(), HttpResponse.BodyHandlers.ofInputStream());

            assertEquals(200, response.statusCode());
            try (InputStream body = response.body()) {
                assertThrows(IOException.class, body::readAllBytes, "aborted, not ended cleanly");
            }
            assertTrue(stopped.await(5, TimeUnit.SECONDS));
            assertTrue(writerError.get());
            assertTrue(events.get() > 1);
        }
    }

    @Test
    void anHttp1DisconnectIsFoundAtTheFirstWriteThatFails() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch clientGone = new CountDownLatch(1);
        AtomicReference<Throwable> cause = new AtomicReference<>();
        CountDownLatch exited = new CountDownLatch(1);
        try (ServletHop hop = ServletHop.start(filter(), servlet((req, resp) -> {
            entered.countDown();
            Context ctx = Context.current();
            try {
                clientGone.await(10, TimeUnit.SECONDS);
                OutputStream out = resp.getOutputStream();
                byte[] chunk = new byte[16 * 1024];
                for (int i = 0; i < 10_000 && !ctx.isDone(); i++) {
                    out.write(chunk);
                    out.flush();
                }
            } catch (InterruptedException e) {
                throw new ServletException(e);
            } finally {
                cause.set(ctx.cause());
                exited.countDown();
            }
        }))) {
            try (Socket socket = new Socket("127.0.0.1", hop.port())) {
                socket.getOutputStream().write("GET /download HTTP/1.1\r\nHost: x\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                assertTrue(entered.await(5, TimeUnit.SECONDS));
                socket.setSoLinger(true, 0);
            }
            clientGone.countDown();

            assertTrue(exited.await(10, TimeUnit.SECONDS));
            RequestEndedException ended = assertInstanceOf(RequestEndedException.class, cause.get());
            assertEquals(RequestEndedException.Why.CLIENT_DISCONNECTED, ended.why());
            assertTrue(ended.getMessage().startsWith("client disconnected: write failed: "), ended.getMessage());
        }
    }

    @Test
    void anAsyncServletKeepsItsContextUntilTheAsyncCycleCompletes() throws Exception {
        AtomicReference<Context> seen = new AtomicReference<>();
        AtomicReference<Boolean> doneWhenDispatchReturned = new AtomicReference<>();
        try (ServletHop hop = ServletHop.start(filter(), servlet((req, resp) -> {
            Context ctx = Context.current();
            seen.set(ctx);
            AsyncContext async = req.startAsync();
            Thread.ofVirtual().start(() -> {
                try {
                    Blocking.sleep(ctx, Duration.ofMillis(50));
                    doneWhenDispatchReturned.compareAndSet(null, ctx.isDone());
                    async.getResponse().getWriter().print("async ok");
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                } finally {
                    async.complete();
                }
            });
        }))) {

            HttpResponse<String> response = get(HTTP1, hop, "/async", "tether-budget", "5S");

            assertEquals(200, response.statusCode());
            assertEquals("async ok", response.body());
            assertFalse(doneWhenDispatchReturned.get(), "the context outlived the dispatch");
            nextCall();
            assertSame(RequestEndedException.responseCompleted(), seen.get().cause());
        }
    }

    @Test
    void anAsyncServletThatNeverCompletesGetsA504() throws Exception {
        try (ServletHop hop = ServletHop.start(filter(), servlet((req, resp) -> req.startAsync().setTimeout(0)))) {
            long start = System.nanoTime();

            HttpResponse<String> response = get(HTTP1, hop, "/async", "tether-budget", "200m");

            System.out.printf("async 504 after %d ms%n", (System.nanoTime() - start) / 1_000_000);
            assertTrue(System.nanoTime() - start < BOUND_NANOS);
            assertEquals(504, response.statusCode());
            assertTrue(response.headers().firstValue("tether-ended").orElseThrow().startsWith("deadline-exceeded"));
            assertTrue(nextCall().isEndedEarly(), "the async cycle completed");
            long t = System.nanoTime();
            hop.close();
            System.out.printf("stop took %d ms%n", (System.nanoTime() - t) / 1_000_000);
        }
    }

    @Test
    void aContainerMadeFilterReadsItsInitParameters() throws Exception {
        AtomicReference<Duration> remaining = new AtomicReference<>();
        try (ServletHop hop = ServletHop.startWithInitParameters(
                Map.of("service", "catalog", "maxBudget", "PT1S", "reserve", "PT0.1S"),
                servlet((req, resp) -> {
                    remaining.set(Context.current().remaining().orElseThrow());
                    resp.getWriter().print(DeadlineOrigin.from(Context.current()));
                }))) {

            HttpResponse<String> response = get(HTTP1, hop, "/items", "tether-budget", "1H");

            assertEquals("catalog/GET:/items", response.body(), "capped at the maximum: the server is the origin");
            assertTrue(remaining.get().compareTo(Duration.ofMillis(900)) <= 0);
        }
    }

    @Test
    void aMalformedInitParameterIsNamed() throws Exception {
        TetherFilter filter = new TetherFilter();
        jakarta.servlet.FilterConfig config = new jakarta.servlet.FilterConfig() {
            private final Map<String, String> parameters = Map.of("service", "catalog", "reserve", "20ms");

            @Override
            public String getFilterName() {
                return "tether";
            }

            @Override
            public jakarta.servlet.ServletContext getServletContext() {
                throw new UnsupportedOperationException();
            }

            @Override
            public String getInitParameter(String name) {
                return parameters.get(name);
            }

            @Override
            public java.util.Enumeration<String> getInitParameterNames() {
                return java.util.Collections.enumeration(parameters.keySet());
            }
        };

        ServletException e = assertThrows(ServletException.class, () -> filter.init(config));

        assertEquals("TetherFilter: init parameter 'reserve': 20ms (expected: an ISO-8601 duration such as PT5S)",
                e.getMessage());
    }
}
