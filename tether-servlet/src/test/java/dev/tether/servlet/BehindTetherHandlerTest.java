package dev.tether.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.Blocking;
import dev.tether.Context;
import dev.tether.jetty.TetherHandler;
import dev.tether.wire.InboundCall;
import dev.tether.wire.RequestEndedException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The recommended setup on Jetty: tether-jetty's core handler in front of the servlet context, so that an HTTP/2
 * reset reaches a synchronous servlet's context at once (the Servlet API has no such signal); the filter, seeing
 * the request's call already made, steps aside.
 */
@Timeout(60)
class BehindTetherHandlerTest {

    @Test
    void anHttp2ResetReachesASynchronousServletThroughTheCoreHandler() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch exited = new CountDownLatch(1);
        AtomicReference<Throwable> cause = new AtomicReference<>();
        AtomicReference<InboundCall> filterSaw = new AtomicReference<>();
        HttpServlet servlet = new HttpServlet() {
            @Override
            protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
                if (req.getRequestURI().equals("/warm-up")) {
                    return;
                }
                filterSaw.set(TetherFilter.call(req));
                entered.countDown();
                try {
                    Blocking.sleep(Context.current(), Duration.ofSeconds(30));
                } finally {
                    cause.set(Context.current().cause());
                    exited.countDown();
                }
            }
        };
        try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
                ServletHop hop = ServletHop.startWrapped(TetherFilter.builder("orders").build(), servlet,
                        context -> TetherHandler.builder("orders").build(context))) {
            client.send(HttpRequest.newBuilder(hop.uri("/warm-up")).build(), HttpResponse.BodyHandlers.discarding());
            CompletableFuture<HttpResponse<String>> pending = client.sendAsync(
                    HttpRequest.newBuilder(hop.uri("/slow")).build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(entered.await(5, TimeUnit.SECONDS));

            pending.cancel(true);

            assertTrue(exited.await(5, TimeUnit.SECONDS), "the reset reached the servlet");
            RequestEndedException ended = assertInstanceOf(RequestEndedException.class, cause.get());
            assertEquals(RequestEndedException.Why.CLIENT_DISCONNECTED, ended.why());
            assertSame(filterSaw.get().context().cause(), cause.get(), "one call: the core handler's");
        }
    }
}
