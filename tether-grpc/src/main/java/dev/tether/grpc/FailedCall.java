package dev.tether.grpc;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * A call that was never started because its budget was already gone: {@link #start} closes the listener with the
 * status, on the call's executor when it has one (a blocking stub's, say), and sends nothing.
 */
final class FailedCall<ReqT, RespT> extends ClientCall<ReqT, RespT> {

    private final @Nullable Executor executor;
    private final Status status;

    FailedCall(CallOptions options, Status status) {
        this.executor = options.getExecutor();
        this.status = status;
    }

    @Override
    public void start(Listener<RespT> listener, Metadata headers) {
        Runnable close = () -> listener.onClose(status, new Metadata());
        if (executor != null) {
            executor.execute(close);
        } else {
            close.run();
        }
    }

    @Override
    public void request(int numMessages) {
        // Nothing will come.
    }

    @Override
    public void cancel(@Nullable String message, @Nullable Throwable cause) {
        // Already closed.
    }

    @Override
    public void halfClose() {
        // Nothing was sent, nothing to end.
    }

    @Override
    public void sendMessage(ReqT message) {
        // Dropped, as gRPC drops messages on a call that failed before it started.
    }

    @Override
    public String toString() {
        return "FailedCall[" + status + "]";
    }
}
