package dev.tether.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.Context;
import dev.tether.grpc.Harness.Transport;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.EndedEarly;
import dev.tether.wire.PeerEndedException;
import dev.tether.wire.WireHeaders;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What a hostile peer sends is rejected or clamped, never trusted: a malformed or huge origin from a client, a
 * malformed or megabyte {@code tether-ended} from a server. (A huge {@code grpc-timeout} is gRPC's to parse; the
 * server's maximum capping whatever it yields is in {@link BudgetAndOriginTest}.)
 */
@Timeout(30)
class HostileMetadataTest {

    private static final Metadata.Key<String> ORIGIN = Metadata.Key.of(WireHeaders.ORIGIN,
            Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> ENDED = Metadata.Key.of(WireHeaders.ENDED,
            Metadata.ASCII_STRING_MARSHALLER);

    private final AtomicReference<DeadlineOrigin> origin = new AtomicReference<>();
    private final AtomicInteger handled = new AtomicInteger();

    private Harness originRecordingServer(Transport transport) {
        return Harness.builder(transport, Echo.service((request, reply) -> {
            handled.incrementAndGet();
            origin.set(DeadlineOrigin.from(Context.current()));
            reply.onNext("ok");
            reply.onCompleted();
        })).intercept(TetherServerInterceptor.create("orders")).start();
    }

    /** A plain gRPC client (no Tether) that sends {@code value} as the origin, with a deadline. */
    private static String sendOrigin(Harness h, String value) {
        Metadata headers = new Metadata();
        headers.put(ORIGIN, value);
        Channel channel = h.channel(MetadataUtils.newAttachHeadersInterceptor(headers));
        return ClientCalls.blockingUnaryCall(channel, Echo.UNARY,
                CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "x");
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void malformedOriginIsIgnored(Transport transport) {
        try (Harness h = originRecordingServer(transport)) {

            String reply = sendOrigin(h, "gate way/<script>");

            assertEquals("ok", reply);
            assertEquals(new DeadlineOrigin("peer", WireHeaders.GRPC_TIMEOUT), origin.get(),
                    "the deadline came from a peer that did not say who set it");
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void hugeOriginIsRejected(Transport transport) {
        String huge = "a".repeat(100_000);
        try (Harness h = originRecordingServer(transport)) {
            if (transport == Transport.IN_PROCESS) {
                // No metadata limit in process: the value reaches the interceptor, which refuses to read it.

                String reply = sendOrigin(h, huge);

                assertEquals("ok", reply);
                assertEquals(new DeadlineOrigin("peer", WireHeaders.GRPC_TIMEOUT), origin.get());
            } else {
                // Over HTTP/2 gRPC's own 8 KiB header limit turns the call away before any handler runs.

                StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> sendOrigin(h, huge));

                assertNotEquals(Status.Code.OK, e.getStatus().getCode());
                assertEquals(0, handled.get());
            }
        }
    }

    /** A server without Tether that fails every call with DEADLINE_EXCEEDED and the given tether-ended value. */
    private static Harness endedSendingServer(Transport transport, String ended) {
        return Harness.builder(transport, Echo.service((request, reply) -> {
            Metadata trailers = new Metadata();
            trailers.put(ENDED, ended);
            reply.onError(Status.DEADLINE_EXCEEDED.withDescription("hostile").asRuntimeException(trailers));
        })).start();
    }

    private static StatusRuntimeException call(Harness h) {
        Channel channel = h.channel(TetherClientInterceptor.create("gateway"));
        return assertThrows(StatusRuntimeException.class,
                () -> ClientCalls.blockingUnaryCall(channel, Echo.UNARY, CallOptions.DEFAULT, "x"));
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void malformedEndedIsReportedUnreadableWithTheKindOfTheStatus(Transport transport) {
        String[] hostile = {
            "banana; reason=\"x\"",                                  // unknown kind
            "deadline-exceeded; reason=\"a\"; reason=\"b\"",         // the reason twice
            "deadline-exceeded; reason=\"unterminated",              // a quoted string that never ends
            "deadline-exceeded; reason=\"" + "x".repeat(2000) + "\"" // too long to read
        };
        for (String value : hostile) {
            try (Harness h = endedSendingServer(transport, value)) {

                StatusRuntimeException e = call(h);

                assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
                PeerEndedException peer = assertInstanceOf(PeerEndedException.class, e.getCause(), value);
                assertEquals(EndedEarly.Kind.DEADLINE_EXCEEDED, peer.ended().kind());
                assertTrue(peer.ended().reason().startsWith("unreadable tether-ended trailer: tether-ended: "),
                        peer.ended().reason());
                assertTrue(peer.ended().reason().length() <= EndedEarly.MAX_REASON);
                assertTrue(!peer.ended().reason().contains("xxxxxxxxxx"), "the value itself is not repeated");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void megabyteEndedIsNeverRead(Transport transport) {
        String megabyte = "deadline-exceeded; reason=\"" + "x".repeat(1 << 20) + "\"";
        try (Harness h = endedSendingServer(transport, megabyte)) {

            StatusRuntimeException e = call(h);

            if (transport == Transport.IN_PROCESS) {
                // No metadata limit in process: the client interceptor sees it and refuses to parse it.
                PeerEndedException peer = assertInstanceOf(PeerEndedException.class, e.getCause());
                assertEquals("unreadable tether-ended trailer: tether-ended: " + megabyte.length()
                        + " characters (expected: at most " + EndedEarly.MAX_HEADER + ")", peer.ended().reason());
                assertTrue(peer.getMessage().length() < 1024, "bounded message");
            } else {
                // Over HTTP/2 gRPC's 8 KiB limit drops the trailers first; nothing of them reaches the caller.
                assertNotEquals(Status.Code.OK, e.getStatus().getCode());
                assertTrue(!(e.getCause() instanceof PeerEndedException), String.valueOf(e.getCause()));
                assertTrue(String.valueOf(e.getStatus().getDescription()).length() < 1024);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void endedFromTheServerIsReadEvenWithoutTheServerInterceptor(Transport transport) {
        try (Harness h = endedSendingServer(transport, "deadline-exceeded; reason=\"db query over budget\"")) {

            StatusRuntimeException e = call(h);

            PeerEndedException peer = assertInstanceOf(PeerEndedException.class, e.getCause());
            assertEquals(new EndedEarly(EndedEarly.Kind.DEADLINE_EXCEEDED, "db query over budget"), peer.ended());
        }
    }
}
