package dev.tether.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.tether.Context;
import dev.tether.grpc.Harness.Transport;
import dev.tether.wire.DeadlineOrigin;
import io.grpc.CallOptions;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Every callback of a streaming call runs with the same request context and handler io.grpc.Context bound. */
@Timeout(30)
class CallbackBindingTest {

    @AfterEach
    void currentContextIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void everyCallbackOfAStreamingCallSeesTheRequestContext(Transport transport) throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        List<Context> contexts = new CopyOnWriteArrayList<>();
        List<io.grpc.Context> grpcContexts = new CopyOnWriteArrayList<>();
        Runnable record = () -> {
            contexts.add(Context.current());
            grpcContexts.add(io.grpc.Context.current());
        };
        try (Harness h = Harness.builder(transport, Echo.streaming(reply -> {
            record.run();   // the method itself runs in startCall for streaming calls
            seen.add("start");
            return new StreamObserver<>() {
                @Override
                public void onNext(String value) {
                    record.run();
                    seen.add(value);
                }

                @Override
                public void onError(Throwable t) {
                    seen.add("error " + t);
                }

                @Override
                public void onCompleted() {
                    record.run();
                    seen.add("half-close");
                    reply.onNext(String.valueOf(seen.size()));
                    reply.onCompleted();
                }
            };
        })).intercept(TetherServerInterceptor.create("orders")).start()) {
            io.grpc.Channel channel = h.channel(TetherClientInterceptor.create("gateway"));
            var replies = new java.util.concurrent.CompletableFuture<String>();

            StreamObserver<String> requests = ClientCalls.asyncClientStreamingCall(
                    channel.newCall(Echo.COLLECT, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS)),
                    new StreamObserver<>() {
                        @Override
                        public void onNext(String value) {
                            replies.complete(value);
                        }

                        @Override
                        public void onError(Throwable t) {
                            replies.completeExceptionally(t);
                        }

                        @Override
                        public void onCompleted() {
                        }
                    });
            requests.onNext("a");
            requests.onNext("b");
            requests.onCompleted();

            assertEquals("4", replies.get(10, TimeUnit.SECONDS));
        }
        assertEquals(List.of("start", "a", "b", "half-close"), seen);
        Context first = contexts.get(0);
        assertEquals(new DeadlineOrigin("gateway", "test.Echo/Collect"), DeadlineOrigin.from(first));
        for (Context c : contexts) {
            assertEquals(first.deadline(), c.deadline(), "one request context for the whole call");
            assertEquals(DeadlineOrigin.from(first), DeadlineOrigin.from(c));
        }
        for (io.grpc.Context g : grpcContexts) {
            assertSame(grpcContexts.get(0), g, "one handler io.grpc.Context for the whole call");
        }
    }
}
