/** Tether across gRPC: client and server interceptors for grpc-java. */
// grpc-api is an automatic module (io.grpc, named in its manifest); its types are in this module's API.
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module dev.tether.grpc {
    requires transitive dev.tether;
    requires transitive dev.tether.wire;
    requires transitive io.grpc;
    requires static org.jspecify;

    exports dev.tether.grpc;
}
