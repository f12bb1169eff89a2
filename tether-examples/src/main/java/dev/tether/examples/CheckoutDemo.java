package dev.tether.examples;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ContextDoneException;
import dev.tether.Key;
import dev.tether.Registration;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A checkout request that fans out to three backends under one 300 ms deadline, while one backend hangs in a
 * real blocking call. It prints what happened to each branch and proves that nothing ran on after the request
 * ended. Run it with the first command of the README.
 */
public final class CheckoutDemo {

    private static final Key<String> ORDER = Key.of("order");
    private static final Duration DEADLINE = Duration.ofMillis(300);

    /** A simulated backend: how long it takes, or null if it hangs until someone stops it. */
    private record Backend(String name, Duration latency, String result) {}

    /** What one branch did, measured from the start of the request. */
    private record Branch(
            String name, boolean completed, String detail, long startedNanos, long endedNanos, Thread thread) {}

    private CheckoutDemo() {}

    public static void main(String[] args) throws Exception {
        List<Backend> backends = List.of(
                new Backend("inventory", Duration.ofMillis(40), "2 items reserved"),
                new Backend("pricing", Duration.ofMillis(90), "total 59.90 EUR"),
                new Backend("payments", null, "authorised"));

        Context base = Context.background().withValue(ORDER, "order-42");
        long start = System.nanoTime();
        List<Branch> branches = new ArrayList<>();
        ContextDoneException requestErr;
        long requestEnded;

        try (CancellableContext request = base.withTimeout(DEADLINE)) {
            System.out.printf("checkout %s: deadline %d ms, %d backends (%s)%n%n",
                    request.value(ORDER), DEADLINE.toMillis(), backends.size(), request);
            CountDownLatch finished = new CountDownLatch(backends.size());
            List<CompletableFuture<Branch>> results = new ArrayList<>();
            for (Backend backend : backends) {
                CompletableFuture<Branch> result = new CompletableFuture<>();
                results.add(result);
                // The request's context goes with the work: the branch sees its deadline and its values.
                Thread.ofVirtual().name(backend.name()).start(request.wrap(() -> {
                    result.complete(callBackend(backend, start));
                    finished.countDown();
                }));
            }
            // Go's select { case <-allDone: case <-ctx.Done(): }: wait for every branch or the deadline.
            CompletableFuture<Void> all = CompletableFuture.runAsync(() -> awaitQuietly(finished));
            CompletableFuture.anyOf(all, request.done().toCompletableFuture()).join();
            requestEnded = System.nanoTime();
            requestErr = request.err();
            request.cancel(); // also when every branch finished in time: nothing may outlive the request
            for (CompletableFuture<Branch> result : results) {
                branches.add(result.get(5, TimeUnit.SECONDS));
            }
        }

        for (Branch b : branches) {
            System.out.printf("  %-10s %-9s %4d ms   %s%n", b.name(), b.completed() ? "ok" : "stopped",
                    millis(b.endedNanos() - b.startedNanos()), b.detail());
        }
        System.out.printf("%nrequest ended after %d ms: %s%n", millis(requestEnded - start),
                requestErr == null ? "every backend answered" : requestErr.getClass().getSimpleName()
                        + " (" + requestErr.getMessage() + ")");

        long lastEnd = branches.stream().mapToLong(Branch::endedNanos).max().orElse(start);
        for (Branch b : branches) {
            b.thread().join(Duration.ofSeconds(5));
        }
        long alive = branches.stream().filter(b -> b.thread().isAlive()).count();
        long overrun = millis(lastEnd - requestEnded);
        System.out.printf("after the request: %d backend threads alive; last branch stopped %d ms after the "
                + "request ended%n", alive, Math.max(0, overrun));
        if (alive > 0 || overrun > 50) {
            System.out.println("FAILED: work outlived its request");
            System.exit(1);
        }
        System.out.println("nothing ran on after the request ended");
    }

    /** Runs one backend call under the current context: the one the request bound to this thread. */
    private static Branch callBackend(Backend backend, long requestStart) {
        Context ctx = Context.current();
        long started = System.nanoTime();
        try {
            if (backend.latency() == null) {
                hang(ctx);
            } else {
                work(ctx, backend.latency());
            }
            return new Branch(backend.name(), true, backend.result(), started, System.nanoTime(),
                    Thread.currentThread());
        } catch (ContextDoneException e) {
            return new Branch(backend.name(), false, e.getClass().getSimpleName() + ": " + e.getMessage()
                    + (ctx.cause() != e ? " (cause: " + ctx.cause() + ")" : ""), started, System.nanoTime(),
                    Thread.currentThread());
        }
    }

    /** Work that takes {@code latency}, or stops when the context ends, whichever is first. */
    private static void work(Context ctx, Duration latency) {
        try {
            ctx.done().toCompletableFuture().get(latency.toNanos(), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException finishedInTime) {
            return;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        ctx.throwIfDone();
    }

    /**
     * A backend that never answers: a real blocking call, {@link BlockingQueue#take()}. The context's onDone
     * hook interrupts it, which is how cancellation reaches code that blocks.
     */
    private static void hang(Context ctx) {
        BlockingQueue<String> reply = new LinkedBlockingQueue<>();
        Thread caller = Thread.currentThread();
        Registration interrupt = ctx.onDone(caller::interrupt, Runnable::run);
        try {
            reply.take();
        } catch (InterruptedException e) {
            ctx.throwIfDone();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted, but not by the context", e);
        } finally {
            if (!interrupt.stop()) {
                Thread.interrupted(); // the hook ran: its interrupt must not reach later code on this thread
            }
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }
}
