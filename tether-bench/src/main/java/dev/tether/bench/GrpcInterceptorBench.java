package dev.tether.bench;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.grpc.TetherClientInterceptor;
import dev.tether.grpc.TetherServerInterceptor;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What tether-grpc's two interceptors add to a gRPC call: one unary call over the in-process transport, with
 * direct executors on both ends so the call itself is as cheap as gRPC makes it, made inside a live request
 * context with a 10 s deadline.
 *
 * <ul>
 *   <li>{@code tether_unary}: through {@link TetherClientInterceptor} to a service behind
 *       {@link TetherServerInterceptor}. The client plans the budget, sets the deadline and the origin, and makes
 *       the call cancellable from the context; the server reads the budget, makes the request context and the
 *       handler's io.grpc.Context, binds both for each callback and ends both when the call completes.</li>
 *   <li>{@code grpc_unary}: the same call without either interceptor, with a 10 s deadline of its own, as a
 *       plain gRPC client would set it.</li>
 * </ul>
 * The difference is the interceptors' cost per call. It does not include what a real transport adds (Netty,
 * a network), which is far larger.
 *
 * <p>Run: {@code tether-bench/run.sh --jmh GrpcInterceptorBench -prof gc} (or
 * {@code run.sh --quick GrpcInterceptorBench} for the table row). No Go counterpart.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(org.openjdk.jmh.annotations.Scope.Thread)
public class GrpcInterceptorBench {

    private static final MethodDescriptor.Marshaller<String> UTF8 = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    private static final MethodDescriptor<String, String> UNARY = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName("bench.Echo/Unary")
            .setRequestMarshaller(UTF8)
            .setResponseMarshaller(UTF8)
            .build();

    private Server plainServer;
    private Server tetherServer;
    private ManagedChannel plainChannel;
    private ManagedChannel tetherChannel;
    private Channel tethered;
    private CancellableContext request;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        ServerServiceDefinition echo = ServerServiceDefinition.builder("bench.Echo")
                .addMethod(UNARY, ServerCalls.<String, String>asyncUnaryCall((message, reply) -> {
                    reply.onNext(message);
                    reply.onCompleted();
                }))
                .build();
        String name = "grpc-interceptor-bench-" + System.identityHashCode(this);
        plainServer = InProcessServerBuilder.forName(name + "-plain").directExecutor().addService(echo).build()
                .start();
        tetherServer = InProcessServerBuilder.forName(name + "-tether").directExecutor()
                .addService(ServerInterceptors.intercept(echo, TetherServerInterceptor.create("bench")))
                .build().start();
        plainChannel = InProcessChannelBuilder.forName(name + "-plain").directExecutor().build();
        tetherChannel = InProcessChannelBuilder.forName(name + "-tether").directExecutor().build();
        tethered = ClientInterceptors.intercept(tetherChannel, TetherClientInterceptor.create("bench-client"));
        request = Context.background().withTimeout(Duration.ofHours(1));
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        request.cancel();
        plainChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        tetherChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        plainServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        tetherServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Benchmark
    public String tether_unary() throws Exception {
        // Both interceptors: deadline, origin and cancellation from the request context, request context served.
        return request.call(() -> ClientCalls.blockingUnaryCall(tethered, UNARY, CallOptions.DEFAULT, "x"));
    }

    @Benchmark
    public String grpc_unary() throws Exception {
        // Plain gRPC: a deadline of its own, the same request context bound but unused.
        return request.call(() -> ClientCalls.blockingUnaryCall(plainChannel, UNARY,
                CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "x"));
    }
}
