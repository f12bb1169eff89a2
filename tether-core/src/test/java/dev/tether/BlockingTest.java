package dev.tether;

import static org.junit.jupiter.api.Assertions.*;

import dev.tether.Threads.Kind;
import dev.tether.Threads.Outcome;
import dev.tether.Threads.Worker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Every Blocking helper, on platform and virtual threads, in the four ways a wait can end. */
@Timeout(20)
class BlockingTest {

    /** One helper under test: how to wait with it, how to make the wait succeed, and what it then returns. */
    interface Fixture {
        Object block(Context ctx) throws Exception;

        void release() throws Exception;

        Object expected();

        /** Beyond being parked: true once the wait is really registered (sleep: its timer is scheduled). */
        default BooleanSupplier ready() {
            return () -> true;
        }
    }

    private final ManualTimeSource time = ManualTimeSource.create();
    private final Context root = Context.root(time);

    @AfterEach
    void currentContextIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
    }

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (Kind kind : Kind.values()) {
            for (String op : List.of("sleep", "awaitFuture", "awaitCompletableFuture", "awaitCompletionStage", "take",
                    "poll", "acquire", "awaitLatch", "awaitCondition", "lock")) {
                all.add(Arguments.of(kind, op));
            }
        }
        return all.stream();
    }

    private Fixture fixture(String op) {
        return switch (op) {
            case "sleep" -> new Fixture() {
                public Object block(Context ctx) {
                    Blocking.sleep(ctx, Duration.ofSeconds(1));
                    return "slept";
                }

                public void release() {
                    time.advance(Duration.ofSeconds(1));
                }

                public Object expected() {
                    return "slept";
                }

                public BooleanSupplier ready() {
                    return () -> time.pendingTimers() > 0;
                }
            };
            case "awaitFuture" -> new Fixture() {
                final FutureTask<String> future = new FutureTask<>(() -> "value");

                public Object block(Context ctx) throws ExecutionException {
                    return Blocking.await(ctx, future);
                }

                public void release() {
                    future.run();
                }

                public Object expected() {
                    return "value";
                }
            };
            case "awaitCompletableFuture" -> new Fixture() {
                final CompletableFuture<String> future = new CompletableFuture<>();

                public Object block(Context ctx) throws ExecutionException {
                    return Blocking.await(ctx, future);
                }

                public void release() {
                    future.complete("value");
                }

                public Object expected() {
                    return "value";
                }
            };
            case "awaitCompletionStage" -> new Fixture() {
                final CompletableFuture<String> future = new CompletableFuture<>();

                public Object block(Context ctx) throws ExecutionException {
                    return Blocking.await(ctx, future.minimalCompletionStage()); // get() unsupported on it
                }

                public void release() {
                    future.complete("value");
                }

                public Object expected() {
                    return "value";
                }
            };
            case "take" -> queueFixture(q -> ctx -> Blocking.take(ctx, q));
            case "poll" -> queueFixture(q -> ctx -> Blocking.poll(ctx, q, Duration.ofHours(1)));
            case "acquire" -> new Fixture() {
                final Semaphore semaphore = new Semaphore(0);

                public Object block(Context ctx) {
                    Blocking.acquire(ctx, semaphore);
                    return "acquired";
                }

                public void release() {
                    semaphore.release();
                }

                public Object expected() {
                    return "acquired";
                }
            };
            case "awaitLatch" -> new Fixture() {
                final CountDownLatch latch = new CountDownLatch(1);

                public Object block(Context ctx) {
                    Blocking.await(ctx, latch);
                    return "opened";
                }

                public void release() {
                    latch.countDown();
                }

                public Object expected() {
                    return "opened";
                }
            };
            case "awaitCondition" -> new Fixture() {
                final ReentrantLock lock = new ReentrantLock();
                final Condition signalled = lock.newCondition();
                boolean flag; // guarded by lock

                public Object block(Context ctx) {
                    lock.lock();
                    try {
                        do {
                            Blocking.await(ctx, signalled);
                        } while (!flag);
                        assertTrue(lock.isHeldByCurrentThread());
                        return "signalled";
                    } finally {
                        lock.unlock();
                    }
                }

                public void release() {
                    lock.lock();
                    try {
                        flag = true;
                        signalled.signalAll();
                    } finally {
                        lock.unlock();
                    }
                }

                public Object expected() {
                    return "signalled";
                }
            };
            case "lock" -> new Fixture() {
                final ReentrantLock lock = new ReentrantLock();

                { lock.lock(); } // held by the test thread until release()

                public Object block(Context ctx) {
                    Blocking.lock(ctx, lock);
                    try {
                        return "locked";
                    } finally {
                        lock.unlock();
                    }
                }

                public void release() {
                    lock.unlock();
                }

                public Object expected() {
                    return "locked";
                }
            };
            default -> throw new IllegalArgumentException(op);
        };
    }

    private interface Wait {
        Object block(Context ctx) throws Exception;
    }

    private static Fixture queueFixture(Function<BlockingQueue<String>, Wait> waitOn) {
        BlockingQueue<String> queue = new LinkedBlockingQueue<>();
        Wait wait = waitOn.apply(queue);
        return new Fixture() {
            public Object block(Context ctx) throws Exception {
                return wait.block(ctx);
            }

            public void release() {
                queue.add("element");
            }

            public Object expected() {
                return "element";
            }
        };
    }

    @ParameterizedTest(name = "{1} on {0}")
    @MethodSource("cases")
    void returnsNormallyWhenNotCancelled(Kind kind, String op) throws Exception {
        Fixture fixture = fixture(op);
        try (CancellableContext ctx = root.withCancel()) {
            Worker worker = new Worker(kind, () -> fixture.block(ctx));
            Threads.awaitBlocked(worker.thread, fixture.ready());

            fixture.release();

            Outcome outcome = worker.await();
            assertNull(outcome.thrown());
            assertEquals(fixture.expected(), outcome.value());
            assertFalse(outcome.interruptedAfter());
        }
    }

    @ParameterizedTest(name = "{1} on {0}")
    @MethodSource("cases")
    void throwsErrWithCauseWhenCancelledMidWait(Kind kind, String op) throws Exception {
        Fixture fixture = fixture(op);
        CancellableContext ctx = root.withCancel();
        Worker worker = new Worker(kind, () -> fixture.block(ctx));
        Threads.awaitBlocked(worker.thread, fixture.ready());
        IllegalStateException why = new IllegalStateException("client went away");

        ctx.cancel(why);

        Outcome outcome = worker.await();
        assertSame(ctx.err(), outcome.thrown());
        assertSame(why, outcome.thrown().getCause());
        assertFalse(outcome.interruptedAfter(), "the context's interrupt must not leak out of the helper");
    }

    @ParameterizedTest(name = "{1} on {0}")
    @MethodSource("cases")
    void throwsDeadlineExceededWhenTheDeadlinePassesMidWait(Kind kind, String op) throws Exception {
        Fixture fixture = fixture(op);
        try (CancellableContext ctx = root.withTimeout(Duration.ofSeconds(1))) {
            Worker worker = new Worker(kind, () -> fixture.block(ctx));
            Threads.awaitBlocked(worker.thread, () -> fixture.ready().getAsBoolean() && time.pendingTimers() > 0);

            time.advance(Duration.ofSeconds(1));

            Outcome outcome = worker.await();
            assertInstanceOf(DeadlineExceededException.class, outcome.thrown());
            assertSame(ctx.err(), outcome.thrown());
            assertFalse(outcome.interruptedAfter());
        }
    }

    @ParameterizedTest(name = "{1} on {0}")
    @MethodSource("cases")
    void throwsAtOnceWhenAlreadyDone_evenIfItCouldProceed(Kind kind, String op) throws Exception {
        Fixture fixture = fixture(op);
        CancellableContext ctx = root.withCancel();
        RuntimeException why = new RuntimeException("shutting down");
        ctx.cancel(why);
        fixture.release(); // the wait could succeed at once; the done context still comes first

        Outcome outcome = new Worker(kind, () -> fixture.block(ctx)).await();

        assertSame(ctx.err(), outcome.thrown());
        assertSame(why, outcome.thrown().getCause());
        assertFalse(outcome.interruptedAfter());
    }

    @ParameterizedTest(name = "{1} on {0}")
    @MethodSource("cases")
    void foreignInterrupt_throwsCancellationException_andKeepsTheFlag(Kind kind, String op) throws Exception {
        Fixture fixture = fixture(op);
        try (CancellableContext ctx = root.withCancel()) {
            Worker worker = new Worker(kind, () -> fixture.block(ctx));
            Threads.awaitBlocked(worker.thread, fixture.ready());

            worker.thread.interrupt();

            Outcome outcome = worker.await();
            assertInstanceOf(CancellationException.class, outcome.thrown());
            assertFalse(outcome.thrown() instanceof ContextDoneException, "not the context's err: " + outcome);
            assertInstanceOf(InterruptedException.class, outcome.thrown().getCause());
            assertTrue(outcome.interruptedAfter(), "a foreign interrupt must stay visible");
            assertFalse(ctx.isDone());
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void interruptedBeforeTheCall_throwsCancellationException_andKeepsTheFlag(Kind kind) throws Exception {
        BlockingQueue<String> queue = new ArrayBlockingQueue<>(1);
        try (CancellableContext ctx = root.withCancel()) {
            Outcome outcome = new Worker(kind, () -> {
                Thread.currentThread().interrupt();
                return Blocking.take(ctx, queue);
            }).await();

            assertInstanceOf(CancellationException.class, outcome.thrown());
            assertTrue(outcome.interruptedAfter());
        }
    }

    @Test
    void sleepShorterThanTheDeadline_returnsWhenTimeAdvancesByItsDuration() throws Exception {
        try (CancellableContext ctx = root.withTimeout(Duration.ofSeconds(10))) {
            Worker worker = new Worker(Kind.VIRTUAL, () -> {
                Blocking.sleep(ctx, Duration.ofSeconds(3));
                return "woke";
            });
            Threads.awaitBlocked(worker.thread, () -> time.pendingTimers() == 1);

            time.advance(Duration.ofMillis(2999));
            assertFalse(worker.outcome.isDone());
            time.advance(Duration.ofMillis(1));

            assertEquals("woke", worker.await().value());
            assertFalse(ctx.isDone());
            assertEquals(0, time.pendingTimers(), "the sleep's timer is released; the deadline's is not armed");
        }
    }

    @Test
    void sleepLongerThanTheDeadline_throwsDeadlineExceededAtTheDeadline() throws Exception {
        try (CancellableContext ctx = root.withTimeout(Duration.ofSeconds(1))) {
            Worker worker = new Worker(Kind.PLATFORM, () -> {
                Blocking.sleep(ctx, Duration.ofSeconds(5));
                return "woke";
            });
            Threads.awaitBlocked(worker.thread, () -> time.pendingTimers() == 1);

            time.advance(Duration.ofSeconds(1));

            assertInstanceOf(DeadlineExceededException.class, worker.await().thrown());
        }
    }

    @Test
    void zeroOrNegativeDurations_doNotWait() {
        try (CancellableContext ctx = root.withCancel()) {
            Blocking.sleep(ctx, Duration.ZERO);
            Blocking.sleep(ctx, Duration.ofSeconds(-1));
            assertNull(Blocking.poll(ctx, new LinkedBlockingQueue<String>(), Duration.ZERO));
        }
    }

    @Test
    void pollReturnsNullWhenItsOwnTimeoutPasses_butTheContextLives() throws Exception {
        try (CancellableContext ctx = root.withCancel()) {
            Worker worker = new Worker(Kind.VIRTUAL,
                    () -> String.valueOf(Blocking.poll(ctx, new LinkedBlockingQueue<String>(), Duration.ofSeconds(2))));
            Threads.awaitBlocked(worker.thread, () -> time.pendingTimers() == 1);

            time.advance(Duration.ofSeconds(2));

            Outcome outcome = worker.await();
            assertEquals("null", outcome.value());
            assertFalse(outcome.interruptedAfter());
            assertFalse(ctx.isDone());
        }
    }

    @Test
    void awaitReportsTheFuturesOwnFailureAsExecutionException() {
        IllegalStateException boom = new IllegalStateException("boom");
        try (CancellableContext ctx = root.withCancel()) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> Blocking.await(ctx, CompletableFuture.failedFuture(boom)));
            assertSame(boom, e.getCause());
            ExecutionException fromStage = assertThrows(ExecutionException.class,
                    () -> Blocking.await(ctx, CompletableFuture.failedStage(boom)));
            assertSame(boom, fromStage.getCause());
        }
    }

    @Test
    void helpersOnBackground_justWait() throws Exception {
        BlockingQueue<String> queue = new LinkedBlockingQueue<>(List.of("x"));

        assertEquals("x", Blocking.take(Context.background(), queue));
        assertEquals("y", Blocking.await(Context.background(), CompletableFuture.completedFuture("y")));
    }

    @Test
    void nullArgumentsAreRejectedByName() {
        NullPointerException e = assertThrows(NullPointerException.class,
                () -> Blocking.take(root, (BlockingQueue<String>) null));
        assertTrue(e.getMessage().contains("queue"), e.getMessage());
        assertThrows(NullPointerException.class, () -> Blocking.sleep(null, Duration.ZERO));
    }

    /**
     * The race that matters for the "no leak" promise: the context ends in the same instant the wait succeeds, so
     * the interrupt may land after the wait returned. Whatever the helper returns or throws, the flag is clear.
     */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void contextInterruptNeverOutlivesTheHelper_underRaces(Kind kind) throws Exception {
        long end = System.nanoTime() + Duration.ofMillis(Threads.stressMillis() / 3).toNanos();
        AtomicInteger rounds = new AtomicInteger();
        while (System.nanoTime() - end < 0) {
            BlockingQueue<String> queue = new LinkedBlockingQueue<>();
            CancellableContext ctx = Context.background().withCancel();
            CountDownLatch started = new CountDownLatch(1);
            Worker worker = new Worker(kind, () -> {
                started.countDown();
                try {
                    return Blocking.take(ctx, queue);
                } catch (ContextDoneException e) {
                    return "cancelled";
                }
            });
            started.await();

            queue.add("element");
            ctx.cancel();

            Outcome outcome = worker.await();
            assertNull(outcome.thrown());
            assertFalse(outcome.interruptedAfter(), "leaked after " + outcome.value() + " in round " + rounds);
            rounds.incrementAndGet();
        }
        assertTrue(rounds.get() > 0);
    }
}
