package dev.tether.bench;

import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;

/** What the benchmarks share: a direct executor for listeners, and the timer gRPC needs for deadlines. */
final class Peers {

    /**
     * Runs listeners on the cancelling thread, so that every peer does the same work: Tether's default
     * {@code onDone} would start a virtual thread per action, which is a different thing to measure.
     */
    static final Executor DIRECT = Runnable::run;

    /**
     * gRPC schedules one task per deadline on a caller-supplied scheduler. This mirrors grpc-core's shared
     * {@code GrpcUtil.TIMER_SERVICE}: one daemon thread, with remove-on-cancel so a cancelled one-hour task
     * leaves the queue at once instead of living out its hour (gRPC sets the same policy for that reason).
     */
    static final ScheduledExecutorService GRPC_TIMER = grpcTimer();

    private static ScheduledExecutorService grpcTimer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, "grpc-timer");
            thread.setDaemon(true);
            return thread;
        });
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }

    private Peers() {}
}
