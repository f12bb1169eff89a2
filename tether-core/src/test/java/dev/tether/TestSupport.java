package dev.tether;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Waiting helpers for the conformance tests. The bound is generous: it only keeps a broken implementation from
 * hanging the build, it never decides whether a deadline rule holds (deadlines run on {@link ManualTimeSource}).
 */
final class TestSupport {

    static final long WAIT_SECONDS = 10;

    private TestSupport() {}

    static <T> T await(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    static void await(CountDownLatch latch) throws InterruptedException {
        assertTrue(latch.await(WAIT_SECONDS, TimeUnit.SECONDS), "timed out after " + WAIT_SECONDS + " s");
    }

    /** Whether the stage has completed, asked through a copy so that nothing is done to the stage itself. */
    static boolean isComplete(CompletionStage<?> stage) {
        return stage.toCompletableFuture().isDone();
    }

    /** Calls {@code task} on a new platform thread and returns its result. */
    static <T> T onNewPlatformThread(Callable<T> task) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread.ofPlatform().name("test-platform").start(() -> complete(result, task));
        return await(result);
    }

    /** Calls {@code task} on a new virtual thread and returns its result. */
    static <T> T onNewVirtualThread(Callable<T> task) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread.ofVirtual().name("test-virtual").start(() -> complete(result, task));
        return await(result);
    }

    private static <T> void complete(CompletableFuture<T> result, Callable<T> task) {
        try {
            result.complete(task.call());
        } catch (Throwable t) {
            result.completeExceptionally(t);
        }
    }
}
