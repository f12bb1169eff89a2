package dev.tether.bench;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.httpclient.TetherHttpClient;
import dev.tether.jetty.TetherHandler;
import dev.tether.wire.InboundBudget;
import dev.tether.wire.OutboundBudget;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One HTTP/1.1 request over loopback, JDK client to Jetty 12, with and without Tether: the {@code request} pair
 * measures the server side (the same handler bare, and behind {@link TetherHandler}, sent the same
 * {@code tether-budget} and origin headers); the {@code client} pair measures the client side ({@link HttpClient}
 * against {@link TetherHttpClient} under a context with a deadline, to the bare handler). The difference within a
 * pair is Tether's per-request overhead; the absolute figures are mostly the loopback round trip and both stacks,
 * and move with the machine's load, so compare within one run.
 *
 * <p>Run: {@code tether-bench/run.sh --jmh WireLoopbackBench -prof gc}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class WireLoopbackBench {

    private static final ByteBuffer BODY = ByteBuffer.wrap("ok".getBytes(StandardCharsets.US_ASCII));

    private Server bare;
    private Server tethered;
    private HttpClient http;
    private TetherHttpClient tether;
    private HttpRequest toBare;
    private HttpRequest toTethered;
    private HttpRequest toBarePlain;
    private CancellableContext caller;

    /** The handler both servers run: a two-byte text answer. */
    static final class Ok extends Handler.Abstract.NonBlocking {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            response.getHeaders().put("content-type", "text/plain");
            response.write(true, BODY.slice(), callback);
            return true;
        }
    }

    private static Server start(Handler handler) throws Exception {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server, 1, 1);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.setHandler(handler);
        server.start();
        return server;
    }

    private static URI uri(Server server) {
        return URI.create("http://127.0.0.1:" + ((ServerConnector) server.getConnectors()[0]).getLocalPort() + "/x");
    }

    @Setup
    public void setUp() throws Exception {
        bare = start(new Ok());
        tethered = start(TetherHandler.builder("orders")
                .policy(InboundBudget.builder().maxBudget(Duration.ofSeconds(10)).reserve(Duration.ofMillis(20))
                        .build())
                .build(new Ok()));
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        tether = TetherHttpClient.builder(http)
                .budget(OutboundBudget.builder().perHopReserve(Duration.ofMillis(10)).build()).build();
        toBare = HttpRequest.newBuilder(uri(bare)).header("tether-budget", "5000000u")
                .header("tether-deadline-origin", "gateway/GET:/checkout").build();
        toTethered = HttpRequest.newBuilder(uri(tethered)).header("tether-budget", "5000000u")
                .header("tether-deadline-origin", "gateway/GET:/checkout").build();
        toBarePlain = HttpRequest.newBuilder(uri(bare)).build();
        caller = Context.background().withTimeout(Duration.ofHours(1));
    }

    @TearDown
    public void tearDown() throws Exception {
        caller.cancel();
        http.close();
        bare.stop();
        tethered.stop();
    }

    /** One op: a GET answered by the bare handler, the Tether headers sent and ignored. */
    @Benchmark
    public int jdk_request() throws IOException, InterruptedException {
        return check(http.send(toBare, HttpResponse.BodyHandlers.ofString()));
    }

    /** One op: the same GET answered through TetherHandler (budget read, context, watch, binding, completion). */
    @Benchmark
    public int tether_request() throws IOException, InterruptedException {
        return check(http.send(toTethered, HttpResponse.BodyHandlers.ofString()));
    }

    /** One op: a GET to the bare handler through the JDK client. */
    @Benchmark
    public int jdk_client() throws IOException, InterruptedException {
        return check(http.send(toBarePlain, HttpResponse.BodyHandlers.ofString()));
    }

    /** One op: the same GET through TetherHttpClient under a context with a deadline (plan, headers, watch). */
    @Benchmark
    public int tether_client() throws IOException {
        return check(tether.send(caller, toBarePlain, HttpResponse.BodyHandlers.ofString()));
    }

    private static int check(HttpResponse<String> response) {
        if (response.statusCode() != 200 || !response.body().equals("ok")) {
            throw new AssertionError(response.statusCode() + " " + response.body());
        }
        return response.statusCode();
    }
}
