package dev.tether.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.wire.DeadlineOrigin;
import io.grpc.CallOptions;
import io.grpc.stub.ClientCalls;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Bad configuration fails at once with the argument's name; a service name is made fit for a header. */
@Timeout(30)
class BuilderTest {

    @Test
    void nullArgumentsAreRejectedByName() {
        assertEquals("service", assertThrows(NullPointerException.class,
                () -> TetherClientInterceptor.create(null)).getMessage());
        assertEquals("service", assertThrows(NullPointerException.class,
                () -> TetherServerInterceptor.builder(null)).getMessage());
        assertEquals("policy", assertThrows(NullPointerException.class,
                () -> TetherClientInterceptor.builder("a").budget(null)).getMessage());
        assertEquals("ticker", assertThrows(NullPointerException.class,
                () -> TetherClientInterceptor.builder("a").ticker(null)).getMessage());
        assertEquals("policy", assertThrows(NullPointerException.class,
                () -> TetherServerInterceptor.builder("a").budget(null)).getMessage());
        assertEquals("parent", assertThrows(NullPointerException.class,
                () -> TetherServerInterceptor.builder("a").parent(null)).getMessage());
    }

    @Test
    void serviceNamesAreSanitizedForTheOriginHeader() throws Exception {
        AtomicReference<DeadlineOrigin> origin = new AtomicReference<>();
        try (Harness h = Harness.builder(Harness.Transport.IN_PROCESS, Echo.service((request, reply) -> {
            origin.set(DeadlineOrigin.from(Context.current()));
            reply.onNext("ok");
            reply.onCompleted();
        })).intercept(TetherServerInterceptor.create("orders")).start();
                CancellableContext request = Context.background().withTimeout(Duration.ofSeconds(10))) {

            request.call(() -> ClientCalls.blockingUnaryCall(
                    h.channel(TetherClientInterceptor.create("check out\r\n(v2)")), Echo.UNARY,
                    CallOptions.DEFAULT, "x"));

            assertEquals(new DeadlineOrigin("check_out___v2_", "test.Echo/Unary"), origin.get());
        }
    }
}
