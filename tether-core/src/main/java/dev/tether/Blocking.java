package dev.tether;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import org.jspecify.annotations.Nullable;

/**
 * Blocking waits that end the moment a context is done: Go's {@code select} on {@code ctx.Done()}, the Java way.
 * Each method returns normally when what it waits for happens, or throws the context's {@link Context#err()}
 * (with its {@link Context#cause()} attached, as the context does) as soon as the context is done, on platform
 * and virtual threads alike.
 *
 * {@snippet :
 * Order order = Blocking.take(ctx, orders);            // returns the head, or throws ctx.err() when ctx ends
 * Price price = Blocking.await(ctx, pricing.quote(order)); // a CompletableFuture; ExecutionException if it failed
 * Blocking.sleep(ctx, Duration.ofMillis(50));           // backoff that a cancelled request cuts short
 * }
 *
 * <h2>Cancellation</h2>
 * The context is the cancellation signal, so these methods declare no {@link InterruptedException}:
 * <ul>
 *   <li>A context that is already done: the method throws its err at once and does not wait (and takes nothing:
 *       no element, no permit).</li>
 *   <li>The context ends during the wait: the method throws its err. The interrupt Tether used to wake the thread
 *       is cleared before the method returns or throws; it never leaks to the caller.</li>
 *   <li>An interrupt that does not come from the context (someone called {@code Thread.interrupt()}): the method
 *       throws a plain {@link CancellationException} (not a {@link ContextDoneException}) whose cause is the
 *       {@link InterruptedException}, and the thread's interrupt flag stays set, so code further up still sees
 *       it. When the context is done by then as well (typically a {@link TaskGroup} interrupting its forks), the
 *       context's err is thrown and the flag still stays set.</li>
 *   <li>When what it waits for happens in the same instant the context ends, the wait's result wins: an element
 *       taken from a queue, a permit acquired or a future's value is returned, never lost.</li>
 * </ul>
 *
 * <p>Waits other than {@link #sleep} and {@link #poll} work by interrupting the waiting thread from an
 * {@link Context#onDone} action registered for the wait and removed after it, so they cost one registration and
 * wake exactly the waiting thread. {@link #sleep} and {@link #poll} measure time with the context's
 * {@link Context#timeSource()}: under a {@link ManualTimeSource} they end when the test advances time.
 *
 * <p>Whether an <em>arbitrary</em> blocking call is cut short by interruption is listed in {@link TaskGroup}'s
 * documentation.
 */
public final class Blocking {

    private Blocking() {}

    /**
     * Waits for {@code duration} by the context's time source, or until {@code ctx} is done, whichever comes
     * first. A duration of zero or less returns at once (after the check that ctx is not done). A sleep that
     * would outlast the context's deadline throws {@link DeadlineExceededException} at the deadline.
     */
    public static void sleep(Context ctx, Duration duration) {
        Objects.requireNonNull(ctx, "ctx must not be null");
        Objects.requireNonNull(duration, "duration must not be null");
        throwIfDone(ctx);
        if (duration.isNegative() || duration.isZero()) {
            return;
        }
        // A child with the sleep's deadline ends at whichever comes first, the sleep or the context; its timer
        // runs on the context's time source, so a ManualTimeSource drives the sleep too.
        try (CancellableContext timer = ctx.withTimeout(duration)) {
            awaitDone(ctx, timer);
        }
        throwIfDone(ctx);
    }

    /**
     * The value of {@code future}, waiting for it until {@code ctx} is done. Does not cancel the future when the
     * context ends (use {@link ContextExecutors#bind} for that).
     *
     * @throws ExecutionException if the future completed exceptionally, with that exception as its cause
     * @throws CancellationException if the future was cancelled
     */
    public static <T> T await(Context ctx, Future<T> future) throws ExecutionException {
        Objects.requireNonNull(ctx, "ctx must not be null");
        Objects.requireNonNull(future, "future must not be null");
        if (future instanceof CompletionStage<?>) {
            // A CompletableFuture may be a minimal stage whose get() is unsupported.
            @SuppressWarnings("unchecked")
            CompletionStage<T> stage = (CompletionStage<T>) future;
            return await(ctx, stage);
        }
        return guarded(ctx, future::get, future.isDone());
    }

    /** The same as {@link #await(Context, Future)}; so that a {@code CompletableFuture} needs no cast. */
    public static <T> T await(Context ctx, CompletableFuture<T> future) throws ExecutionException {
        return await(ctx, (CompletionStage<T>) future);
    }

    /**
     * The value {@code stage} completes with, waiting for it until {@code ctx} is done.
     *
     * @throws ExecutionException if the stage completed exceptionally, with that exception (unwrapped from a
     *     {@link java.util.concurrent.CompletionException}) as its cause
     * @throws CancellationException if the stage was cancelled
     */
    public static <T> T await(Context ctx, CompletionStage<T> stage) throws ExecutionException {
        Objects.requireNonNull(ctx, "ctx must not be null");
        Objects.requireNonNull(stage, "stage must not be null");
        throwIfDone(ctx);
        CompletableFuture<T> future = asFuture(stage);
        return guarded(ctx, future::get, future.isDone());
    }

    /** Takes the head of {@code queue}, waiting for one until {@code ctx} is done. */
    public static <E> E take(Context ctx, BlockingQueue<E> queue) {
        Objects.requireNonNull(ctx, "ctx must not be null");
        Objects.requireNonNull(queue, "queue must not be null");
        throwIfDone(ctx);
        E head = queue.poll(); // an element ready now needs no cancellation wiring
        return head != null ? head : unchecked(ctx, queue::take);
    }

    /**
     * Takes the head of {@code queue}, waiting up to {@code timeout} by the context's time source; null if none
     * came in time. Throws the context's err if it is done first.
     */
    public static <E> @Nullable E poll(Context ctx, BlockingQueue<E> queue, Duration timeout) {
        Objects.requireNonNull(ctx, "ctx must not be null");
        Objects.requireNonNull(queue, "queue must not be null");
        Objects.requireNonNull(timeout, "timeout must not be null");
        throwIfDone(ctx);
        if (timeout.isNegative() || timeout.isZero()) {
            return queue.poll();
        }
        try (CancellableContext limit = ctx.withTimeout(timeout)) {
            return take(limit, queue);
        } catch (ContextDoneException e) {
            throwIfDone(ctx);
            return null; // our own limit ended, not ctx
        }
    }

    /** Acquires one permit from {@code semaphore}, waiting for it until {@code ctx} is done. */
    public static void acquire(Context ctx, Semaphore semaphore) {
        Objects.requireNonNull(ctx, "ctx must not be null");
        Objects.requireNonNull(semaphore, "semaphore must not be null");
        throwIfDone(ctx);
        if (semaphore.tryAcquire()) {
            return;
        }
        unchecked(ctx, () -> {
            semaphore.acquire();
            return null;
        });
    }

    /** Waits until {@code latch} has counted down to zero, or until {@code ctx} is done. */
    public static void await(Context ctx, CountDownLatch latch) {
        Objects.requireNonNull(ctx, "ctx must not be null");
        Objects.requireNonNull(latch, "latch must not be null");
        throwIfDone(ctx);
        if (latch.getCount() == 0) {
            return;
        }
        unchecked(ctx, () -> {
            latch.await();
            return null;
        });
    }

    /**
     * {@link Condition#await()} until signalled or until {@code ctx} is done. As with {@code Condition.await()},
     * the caller holds the condition's lock, holds it again when this returns or throws, and calls this in a loop
     * that re-checks its predicate (wake-ups may be spurious).
     */
    public static void await(Context ctx, Condition condition) {
        Objects.requireNonNull(ctx, "ctx must not be null");
        Objects.requireNonNull(condition, "condition must not be null");
        unchecked(ctx, () -> {
            condition.await();
            return null;
        });
    }

    /**
     * Acquires {@code lock} ({@link Lock#lockInterruptibly()}), waiting for it until {@code ctx} is done. On
     * return the caller holds the lock; when this throws, it does not.
     */
    public static void lock(Context ctx, Lock lock) {
        Objects.requireNonNull(ctx, "ctx must not be null");
        Objects.requireNonNull(lock, "lock must not be null");
        throwIfDone(ctx);
        if (lock.tryLock()) {
            return;
        }
        unchecked(ctx, () -> {
            lock.lockInterruptibly();
            return null;
        });
    }

    // ---- the machinery ----

    /** A wait that may be interrupted. */
    @FunctionalInterface
    private interface Wait<T> {
        T run() throws InterruptedException, ExecutionException;
    }

    private static <T> T unchecked(Context ctx, Wait<T> wait) {
        try {
            return guarded(ctx, wait);
        } catch (ExecutionException e) {
            throw new AssertionError("only future waits throw ExecutionException", e);
        }
    }

    /**
     * A future tied to this very context (ContextExecutors.bind) ends with its err; since JDK 23
     * CompletableFuture.get() wraps that in a new CancellationException. Report the err itself.
     */
    private static CancellationException boundErr(Context ctx, CancellationException e) {
        ContextDoneException err = ctx.err();
        return err != null && (e == err || e.getCause() == err) ? err : e;
    }

    /**
     * Runs {@code wait} with an onDone action that interrupts this thread, only while the wait runs. The
     * action's interrupt is told from a foreign one by the guard's state, not by the thread's flag.
     */
    private static <T> T guarded(Context ctx, Wait<T> wait) throws ExecutionException {
        return guarded(ctx, wait, false);
    }

    /** {@code ready}: the wait returns at once (a completed future), so it needs no cancellation wiring. */
    private static <T> T guarded(Context ctx, Wait<T> wait, boolean ready) throws ExecutionException {
        throwIfDone(ctx);
        if (ready) {
            try {
                return wait.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // not ours: we sent none
                throw foreignInterrupt(e);
            } catch (CancellationException e) {
                throw boundErr(ctx, e);
            }
        }
        InterruptGuard guard = InterruptGuard.armedForCurrentThread();
        Registration registration = ctx.onDone(guard::fire, Runnable::run);
        T value;
        InterruptedException interrupted;
        boolean fired;
        try {
            value = wait.run();
            interrupted = null;
        } catch (InterruptedException e) {
            value = null;
            interrupted = e;
        } catch (CancellationException e) {
            throw boundErr(ctx, e);
        } finally {
            registration.stop();
            fired = guard.disarm(); // clears our interrupt, also one that landed after the wait returned
        }
        if (interrupted == null) {
            return value;
        }
        if (fired) {
            throw Objects.requireNonNull(ctx.err(), "a context that fired its onDone action is done");
        }
        Thread.currentThread().interrupt(); // not ours: whoever sent it still needs to see it
        ContextDoneException err = ctx.err();
        if (err != null) {
            throw err;
        }
        throw foreignInterrupt(interrupted);
    }

    /** Waits until {@code ctx} is done, without interrupts: a latch counted down by an onDone action. */
    private static void awaitDone(Context outer, Context ctx) {
        CountDownLatch done = new CountDownLatch(1);
        Registration registration = ctx.onDone(done::countDown, Runnable::run);
        try {
            done.await();
        } catch (InterruptedException e) {
            registration.stop();
            Thread.currentThread().interrupt();
            throwIfDone(outer);
            throw foreignInterrupt(e);
        }
    }

    private static CancellationException foreignInterrupt(InterruptedException e) {
        CancellationException cancelled =
                new CancellationException("interrupted while waiting, but not by the context; interrupt flag kept");
        cancelled.initCause(e);
        return cancelled;
    }

    private static void throwIfDone(Context ctx) {
        ContextDoneException err = ctx.err();
        if (err != null) {
            throw err;
        }
    }

    /** The stage as a future whose get() works: a CompletableFuture itself, else a copy that follows it. */
    private static <T> CompletableFuture<T> asFuture(CompletionStage<T> stage) {
        if (stage.getClass() == CompletableFuture.class) {
            return (CompletableFuture<T>) stage;
        }
        try {
            // Also turns a minimal stage, whose get() throws UnsupportedOperationException, into a full future.
            return stage.toCompletableFuture();
        } catch (UnsupportedOperationException e) {
            CompletableFuture<T> copy = new CompletableFuture<>();
            stage.whenComplete((value, failure) -> {
                if (failure != null) {
                    copy.completeExceptionally(failure);
                } else {
                    copy.complete(value);
                }
            });
            return copy;
        }
    }
}
