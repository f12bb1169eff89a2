/** Tether across gRPC: client and server interceptors for grpc-java. */
module dev.tether.grpc {
    requires transitive dev.tether;
    requires transitive dev.tether.wire;
    requires transitive io.grpc;
    requires static org.jspecify;

    exports dev.tether.grpc;
}
