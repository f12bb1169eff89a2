package dev.tether.grpc;

import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** A hand-written test service (no protoc here): UTF-8 strings in and out. */
final class Echo {

    static final String SERVICE = "test.Echo";

    static final MethodDescriptor.Marshaller<String> UTF8 = new MethodDescriptor.Marshaller<>() {
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

    static final MethodDescriptor<String, String> UNARY = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Unary"))
            .setRequestMarshaller(UTF8)
            .setResponseMarshaller(UTF8)
            .build();

    static final MethodDescriptor<String, String> COLLECT = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.CLIENT_STREAMING)
            .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Collect"))
            .setRequestMarshaller(UTF8)
            .setResponseMarshaller(UTF8)
            .build();

    private Echo() {
    }

    /** The service with {@code handler} as its one client-streaming method. */
    static ServerServiceDefinition streaming(ServerCalls.ClientStreamingMethod<String, String> handler) {
        return ServerServiceDefinition.builder(SERVICE)
                .addMethod(COLLECT, ServerCalls.asyncClientStreamingCall(handler))
                .build();
    }

    /** The service with {@code handler} as its one unary method. */
    static ServerServiceDefinition service(ServerCalls.UnaryMethod<String, String> handler) {
        return ServerServiceDefinition.builder(SERVICE)
                .addMethod(UNARY, ServerCalls.asyncUnaryCall(handler))
                .build();
    }
}
