package dev.tether.examples;

import dev.tether.Blocking;
import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ContextDoneException;
import dev.tether.Key;
import dev.tether.TaskGroup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A checkout request that fans out to three backends under one 300 ms deadline, while one backend hangs in a
 * real blocking JDK call. It prints what happened to each branch and proves that nothing ran on after the
 * request ended. Run it with the first command of the README.
 */
public final class CheckoutDemo {

    private static final Key<String> ORDER = Key.of("order");
    private static final Duration DEADLINE = Duration.ofMillis(300);

    /** A simulated backend: how long it takes, or null if it hangs until something stops it. */
    private record Backend(String name, Duration latency, String result) {}

    /** What one branch did, with times from the start of the request. */
    private record Branch(String name, boolean completed, String detail, long startedNanos, long endedNanos) {}

    private CheckoutDemo() {}

    public static void main(String[] args) throws Exception {
        if (!run()) {
            System.exit(1);
        }
    }

    /** Runs the request and prints the report; false if any backend thread outlived it. */
    static boolean run() throws Exception {
        List<Backend> backends = List.of(
                new Backend("inventory", Duration.ofMillis(40), "2 items reserved"),
                new Backend("pricing", Duration.ofMillis(90), "total 59.90 EUR"),
                new Backend("payments", null, "authorised"));
        long start = System.nanoTime();
        List<TaskGroup.Fork<Branch>> forks = new ArrayList<>();
        List<Thread> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
        ContextDoneException requestErr = null;
        long requestEnded;

        try (CancellableContext request = Context.background().withValue(ORDER, "order-42").withTimeout(DEADLINE);
                TaskGroup group = TaskGroup.open(request, TaskGroup.Policy.COLLECT_ALL)) {
            System.out.printf("checkout %s: deadline %d ms, %d backends in one TaskGroup%n  %s%n%n",
                    request.value(ORDER), DEADLINE.toMillis(), backends.size(), request);
            for (Backend backend : backends) {
                // Each fork runs on its own virtual thread with the group's context as Context.current().
                forks.add(group.fork(() -> {
                    threads.add(Thread.currentThread());
                    return callBackend(backend);
                }));
            }
            try {
                group.join(); // every branch answered in time...
            } catch (ContextDoneException e) {
                requestErr = e; // ...or the deadline came first: the forks are being interrupted
            } catch (ExecutionException e) {
                System.out.println("a backend failed: " + e.getCause());
            }
            requestEnded = System.nanoTime();
        } // close(): cancels what still runs and waits for it; after this line no fork runs, ever
        long closed = System.nanoTime();

        for (TaskGroup.Fork<Branch> fork : forks) {
            Branch b = fork.state() == TaskGroup.Fork.State.SUCCEEDED ? fork.get() : null;
            if (b == null) {
                System.out.printf("  %-10s %s: %s%n", "?", fork.state(), fork.exception());
                continue;
            }
            System.out.printf("  %-10s %-9s %4d ms   %s%n", b.name(), b.completed() ? "ok" : "stopped",
                    millis(b.endedNanos() - b.startedNanos()), b.detail());
        }
        System.out.printf("%nrequest ended after %d ms: %s%n", millis(requestEnded - start),
                requestErr == null ? "every backend answered"
                        : requestErr.getClass().getSimpleName() + " (" + requestErr.getMessage() + ")");

        long alive = threads.stream().filter(Thread::isAlive).count();
        System.out.printf("after the TaskGroup closed (%d ms later): %d of %d backend threads alive%n",
                millis(closed - requestEnded), alive, threads.size());
        if (alive > 0 || threads.size() != backends.size()) {
            System.out.println("FAILED: work outlived its request");
            return false;
        }
        System.out.println("nothing ran on after the request ended");
        return true;
    }

    /** One backend call, under the context the group bound to this thread. */
    private static Branch callBackend(Backend backend) {
        Context ctx = Context.current();
        long started = System.nanoTime();
        try {
            if (backend.latency() == null) {
                hang();
            } else {
                Blocking.sleep(ctx, backend.latency()); // returns, or throws ctx's err the moment it is done
            }
            return new Branch(backend.name(), true, backend.result(), started, System.nanoTime());
        } catch (ContextDoneException e) {
            Throwable cause = ctx.cause();
            return new Branch(backend.name(), false, e.getClass().getSimpleName() + ": " + e.getMessage()
                    + (cause != e ? " (cause: " + cause + ")" : ""), started, System.nanoTime());
        }
    }

    /**
     * A backend that never answers: a plain {@link BlockingQueue#take()}, knowing nothing of Tether. The group
     * interrupts it when its context ends; the interrupt is turned into the context's err.
     */
    private static void hang() {
        BlockingQueue<String> reply = new LinkedBlockingQueue<>();
        try {
            reply.take();
        } catch (InterruptedException e) {
            Context.current().throwIfDone();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted, but not by the context", e);
        }
    }

    private static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }
}
