package dev.tether.httpclient;

import java.net.URI;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

/**
 * A plain Jetty server (no Tether) on loopback, HTTP/1.1 and h2c, whose paths answer the way a peer would:
 * echo the Tether headers, hang until the client goes away, or end early with {@code tether-ended}.
 */
final class TestServer implements AutoCloseable {

    private final Server server = new Server();
    private final ServerConnector connector;
    final AtomicInteger requests = new AtomicInteger();
    /** Counted down when a /hang request's stream fails (the client reset it or closed the connection). */
    final CountDownLatch hangFailed = new CountDownLatch(1);
    final CountDownLatch hangEntered = new CountDownLatch(1);
    final Map<String, Throwable> failures = new ConcurrentHashMap<>();

    TestServer() throws Exception {
        HttpConfiguration config = new HttpConfiguration();
        connector = new ServerConnector(server, new HttpConnectionFactory(config),
                new HTTP2CServerConnectionFactory(config));
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                requests.incrementAndGet();
                String path = request.getHttpURI().getPath();
                switch (path) {
                    case "/echo" -> {
                        String body = line(request, "tether-budget") + line(request, "grpc-timeout")
                                + line(request, "tether-deadline-origin");
                        Content.Sink.write(response, true, body, callback);
                    }
                    case "/hang" -> {
                        request.addFailureListener(failure -> {
                            failures.put(path, failure);
                            hangFailed.countDown();
                            callback.failed(failure);
                        });
                        hangEntered.countDown();
                    }
                    case "/ended504" -> answer(response, callback, 504,
                            "deadline-exceeded; reason=\"budget 80ms from gateway/GET:/x ran out at orders/GET:/y\"");
                    case "/ended200" -> answer(response, callback, 200, "deadline-exceeded; reason=\"stale\"");
                    case "/malformed" -> answer(response, callback, 504, "exploded; reason=\"x\"");
                    case "/plain504" -> answer(response, callback, 504, null);
                    default -> {
                        response.setStatus(404);
                        callback.succeeded();
                    }
                }
                return true;
            }
        });
        server.start();
    }

    private static String line(Request request, String name) {
        return name + "=" + request.getHeaders().get(name) + "\n";
    }

    private static void answer(Response response, Callback callback, int status, String ended) {
        response.setStatus(status);
        if (ended != null) {
            response.getHeaders().put("tether-ended", ended);
        }
        Content.Sink.write(response, true, "answer " + status, callback);
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + connector.getLocalPort() + path);
    }

    boolean awaitHangFailed() throws InterruptedException {
        return hangFailed.await(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

}
