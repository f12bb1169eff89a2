package dev.tether.grpc;

import dev.tether.ManualTimeSource;
import io.grpc.Channel;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.Deadline;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/** A server and a channel to it, in process or over Netty on a loopback port chosen by the system. */
final class Harness implements AutoCloseable {

    enum Transport { IN_PROCESS, NETTY }

    private static final AtomicInteger NAMES = new AtomicInteger();

    final Transport transport;
    private final Server server;
    private final ManagedChannel channel;

    private Harness(Transport transport, Server server, ManagedChannel channel) {
        this.transport = transport;
        this.server = server;
        this.channel = channel;
    }

    /** A ticker that reads a manual time source, so gRPC's deadlines and Tether's move together in tests. */
    static Deadline.Ticker ticker(ManualTimeSource time) {
        return new Deadline.Ticker() {
            @Override
            public long nanoTime() {
                return time.nanoTime();
            }
        };
    }

    static Builder builder(Transport transport, ServerServiceDefinition service) {
        return new Builder(transport, service);
    }

    /** The channel with the given client interceptors (the first runs first). */
    Channel channel(ClientInterceptor... interceptors) {
        List<ClientInterceptor> reversed = new java.util.ArrayList<>(List.of(interceptors));
        java.util.Collections.reverse(reversed);
        return ClientInterceptors.intercept(channel, reversed);
    }

    @Override
    public void close() {
        channel.shutdownNow();
        server.shutdownNow();
        try {
            channel.awaitTermination(10, TimeUnit.SECONDS);
            server.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static final class Builder {
        private final Transport transport;
        private final ServerServiceDefinition service;
        private @Nullable ServerInterceptor interceptor;
        private @Nullable Executor executor;
        private Deadline.@Nullable Ticker ticker;
        private int maxInboundMetadataSize = -1;

        Builder(Transport transport, ServerServiceDefinition service) {
            this.transport = transport;
            this.service = service;
        }

        Builder intercept(ServerInterceptor interceptor) {
            this.interceptor = interceptor;
            return this;
        }

        Builder executor(Executor executor) {
            this.executor = executor;
            return this;
        }

        /** The in-process server's deadline ticker; Netty's server always measures deadlines on the system's. */
        Builder ticker(Deadline.Ticker ticker) {
            this.ticker = ticker;
            return this;
        }

        /** A metadata limit for both ends; the default is gRPC's (8 KiB for Netty, none in process). */
        Builder maxInboundMetadataSize(int bytes) {
            this.maxInboundMetadataSize = bytes;
            return this;
        }

        Harness start() {
            ServerServiceDefinition def = interceptor == null ? service : ServerInterceptors.intercept(service,
                    interceptor);
            try {
                if (transport == Transport.IN_PROCESS) {
                    String name = "tether-grpc-test-" + NAMES.incrementAndGet();
                    InProcessServerBuilder sb = InProcessServerBuilder.forName(name).addService(def);
                    if (executor != null) {
                        sb.executor(executor);
                    }
                    if (ticker != null) {
                        sb.deadlineTicker(ticker);
                    }
                    if (maxInboundMetadataSize > 0) {
                        sb.maxInboundMetadataSize(maxInboundMetadataSize);
                    }
                    Server server = sb.build().start();
                    InProcessChannelBuilder cb = InProcessChannelBuilder.forName(name);
                    if (maxInboundMetadataSize > 0) {
                        cb.maxInboundMetadataSize(maxInboundMetadataSize);
                    }
                    return new Harness(transport, server, cb.build());
                }
                NettyServerBuilder sb = NettyServerBuilder
                        .forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).addService(def);
                if (executor != null) {
                    sb.executor(executor);
                }
                if (maxInboundMetadataSize > 0) {
                    sb.maxInboundMetadataSize(maxInboundMetadataSize);
                }
                Server server = sb.build().start();
                NettyChannelBuilder cb = NettyChannelBuilder
                        .forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getPort()))
                        .usePlaintext();
                if (maxInboundMetadataSize > 0) {
                    cb.maxInboundMetadataSize(maxInboundMetadataSize);
                }
                return new Harness(transport, server, cb.build());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
