package dev.tether.grpc;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.util.concurrent.ListenableFuture;
import dev.tether.Blocking;
import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ContextDoneException;
import dev.tether.grpc.Harness.Transport;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Many calls at once, each ending one of four ways (a reply, the caller cancelling at a random moment, a short
 * deadline racing the handler, an interrupted plain wait): every call ends with the status its way allows, every
 * server request context ends, and no interrupt survives a callback on the server's pooled threads.
 */
@Timeout(120)
class ConcurrentCallsStressTest {

    private final LongAdder started = new LongAdder();
    private final LongAdder ended = new LongAdder();
    private final LongAdder interruptsCaught = new LongAdder();
    private final AtomicInteger tasksEndingInterrupted = new AtomicInteger();
    private final Map<String, String> unexpected = new ConcurrentHashMap<>();

    private void handle(String request, io.grpc.stub.StreamObserver<String> reply) {
        started.increment();
        Context.current().onDone(ended::increment, Runnable::run);
        switch (request) {
            case "reply" -> {
                reply.onNext("ok");
                reply.onCompleted();
            }
            case "wait" -> {
                try {
                    Blocking.await(Context.current(), new CompletableFuture<Void>());
                } catch (ExecutionException e) {
                    throw new AssertionError(e);
                }
            }
            case "sleep" -> {
                try {
                    Thread.sleep(30_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    interruptsCaught.increment();
                    ContextDoneException err = Context.current().err();
                    throw err != null ? err : new IllegalStateException("interrupted while the request was live", e);
                }
            }
            default -> throw new AssertionError(request);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void everyCallEndsAsItMayAndLeavesNothingBehind(Transport transport) throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        Executor checked = task -> pool.execute(() -> {
            task.run();
            if (Thread.interrupted()) {
                tasksEndingInterrupted.incrementAndGet();
            }
        });
        int calls = 0;
        try (Harness h = Harness.builder(transport, Echo.service(this::handle)).executor(checked)
                .intercept(TetherServerInterceptor.builder("orders").interruptHandlers(true).build()).start()) {
            Channel channel = h.channel(TetherClientInterceptor.create("gateway"));
            long end = System.nanoTime() + HandlerInterrupterTest.STRESS_MILLIS * 1_000_000;
            while (System.nanoTime() < end || calls < 100) {
                List<Outcome> batch = new ArrayList<>();
                for (int i = 0; i < 16; i++) {
                    batch.add(start(channel));
                }
                for (Outcome o : batch) {
                    o.check();
                }
                calls += batch.size();
            }
            long waitUntil = System.nanoTime() + SECONDS.toNanos(10);
            while (ended.sum() < started.sum() && System.nanoTime() < waitUntil) {
                LockSupport.parkNanos(1_000_000);   // bounded wait for the last onDone actions to run
            }
        } finally {
            pool.shutdown();
            assertTrue(pool.awaitTermination(10, SECONDS), "no handler is still asleep");
        }
        assertEquals(Map.of(), unexpected);
        assertTrue(interruptsCaught.sum() > 0, "sleeping handlers were interrupted");
        assertEquals(started.sum(), ended.sum(), "every server request context ended");
        assertEquals(0, tasksEndingInterrupted.get(), "no interrupt outlived a callback");
        assertTrue(calls >= 100, calls + " calls");
    }

    private Outcome start(Channel channel) throws Exception {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return switch (random.nextInt(4)) {
            case 0 -> new Outcome("reply", Context.background().withCancel(), channel, Status.Code.OK);
            case 1 -> {
                Outcome o = new Outcome(random.nextBoolean() ? "wait" : "sleep", Context.background().withCancel(),
                        channel, Status.Code.CANCELLED);
                for (int i = random.nextInt(2000); i > 0; i--) {
                    Thread.onSpinWait();
                }
                o.ctx.cancel();
                yield o;
            }
            default -> new Outcome(random.nextBoolean() ? "wait" : "sleep",
                    Context.background().withTimeout(Duration.ofMillis(6 + random.nextInt(25))), channel,
                    Status.Code.DEADLINE_EXCEEDED);
        };
    }

    /** One call and the status it may end with. */
    private final class Outcome {
        final String request;
        final CancellableContext ctx;
        final Status.Code allowed;
        final ListenableFuture<String> reply;

        Outcome(String request, CancellableContext ctx, Channel channel, Status.Code allowed) throws Exception {
            this.request = request;
            this.ctx = ctx;
            this.allowed = allowed;
            this.reply = ctx.call(() -> ClientCalls.futureUnaryCall(channel.newCall(Echo.UNARY,
                    CallOptions.DEFAULT), request));
        }

        void check() throws InterruptedException {
            Status.Code code;
            try {
                reply.get(10, SECONDS);
                code = Status.Code.OK;
            } catch (ExecutionException e) {
                code = e.getCause() instanceof StatusRuntimeException s ? s.getStatus().getCode() : null;
            } catch (TimeoutException e) {
                code = null;
            } finally {
                ctx.cancel();
            }
            if (code != allowed) {
                unexpected.put(request + " expecting " + allowed, String.valueOf(code));
            }
        }
    }
}
