package sample;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.Key;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Deliberately broken: each Tether rule fires here once or more, on the line after its marker. The parity test
 * checks that the CLI reports exactly these findings; the README shows the CLI's output on this file.
 */
class BrokenSample {

    private static final Key<String> USER = Key.of("user");
    private static final Key<List<String>> ROLES = Key.of("roles");

    // BUG: Diagnostic contains: CTX007
    private final Context saved;

    BrokenSample(Context saved) {
        this.saved = saved;
    }

    String lostCancel(Context ctx, boolean cached) throws Exception {
        // BUG: Diagnostic contains: CTX001
        CancellableContext call = ctx.withTimeout(Duration.ofSeconds(2));
        if (cached) {
            return "cached";
        }
        try {
            return call.call(() -> "loaded");
        } finally {
            call.cancel();
        }
    }

    void rootInScope(Context ctx) {
        // BUG: Diagnostic contains: CTX002
        try (CancellableContext call = Context.background().withCancel()) {
            call.isDone();
        }
    }

    void nullContext() {
        // BUG: Diagnostic contains: CTX003
        lostCancelSafely(null);
    }

    void unpropagated(Context ctx, ExecutorService executor) {
        // BUG: Diagnostic contains: CTX004
        executor.submit(() -> System.out.println("audit"));
    }

    Object blocking(Context ctx, Future<Object> pending) throws Exception {
        // BUG: Diagnostic contains: CTX005
        return pending.get();
    }

    void spin(Context ctx, BlockingQueue<String> jobs) {
        // BUG: Diagnostic contains: CTX006
        while (true) {
            String job = jobs.poll();
            if (job == null) {
                break;
            }
        }
    }

    Context inlineKey(Context ctx) {
        // BUG: Diagnostic contains: CTX008
        return ctx.withValue(Key.of("user"), "alice");
    }

    Context mutableValue(Context ctx, List<String> roles) {
        // BUG: Diagnostic contains: CTX009
        return ctx.withValue(ROLES, new ArrayList<>(roles));
    }

    void fatContext(Context ctx, List<String> users) {
        for (String user : users) {
            // BUG: Diagnostic contains: CTX010
            ctx = ctx.withValue(USER, user);
        }
    }

    void swallowed() {
        try {
            Thread.sleep(10);
        // BUG: Diagnostic contains: CTX011
        } catch (InterruptedException e) {
            System.out.println("interrupted");
        }
    }

    Future<String> cancelBeforeAsync(Context ctx, ExecutorService executor) {
        try (CancellableContext call = ctx.withTimeout(Duration.ofSeconds(2))) {
            // BUG: Diagnostic contains: CTX012
            return executor.submit(call.wrap(() -> "late"));
        }
    }

    // The same work done right: none of these lines is flagged.
    static String lostCancelSafely(Context ctx) {
        try (CancellableContext call = ctx.withTimeout(Duration.ofSeconds(2))) {
            return call.call(() -> "loaded");
        } catch (Exception e) {
            return "failed";
        }
    }

    void propagated(Context ctx, ExecutorService executor) {
        executor.submit(ctx.wrap(() -> System.out.println("audit")));
    }

    void checkedLoop(Context ctx, BlockingQueue<String> jobs) {
        while (true) {
            ctx.throwIfDone();
            if (jobs.poll() == null) {
                return;
            }
        }
    }

    Context immutableValue(Context ctx, List<String> roles) {
        return ctx.withValue(ROLES, List.copyOf(roles));
    }
}
