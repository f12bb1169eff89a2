package dev.tether.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.CancellableContext;
import dev.tether.Context;
import java.lang.reflect.Proxy;
import java.sql.Statement;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Execution}'s promise, without a database: {@code cancel()} reaches the statement only while its execution
 * is in flight, and {@link Execution#finish()} does not return while a {@code cancel()} call is in progress. The
 * statement is a stand-in whose {@code cancel()} takes a random few microseconds (a driver's cancel request) and
 * checks, when it starts and when it ends, that its own execution is still the one in flight.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ExecutionStressTest {

    private static final long MILLIS = Long.getLong("tether.stress.millis", 1500);

    @ParameterizedTest(name = "virtual threads: {0}")
    @ValueSource(booleans = {false, true})
    void cancelReachesAStatementOnlyWhileItsExecutionIsInFlight(boolean virtual) throws Exception {
        AtomicLong inFlight = new AtomicLong(); // the execution between begin() and finish(); 0 for none
        LongAdder cancels = new LongAdder();
        LongAdder outside = new LongAdder();
        LongAdder refusedAtBegin = new LongAdder();
        ThreadFactory factory = virtual ? Thread.ofVirtual().factory() : Thread.ofPlatform().factory();
        AtomicLong rounds = new AtomicLong();
        // The executing thread is of the kind under test; one canceller thread, started once, cancels each
        // execution's context after a random few microseconds, racing begin(), the statement and finish().
        try (ExecutorService worker = Executors.newThreadPerTaskExecutor(factory);
                ExecutorService canceller = Executors.newSingleThreadExecutor()) {
            worker.submit(() -> {
                long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MILLIS);
                ThreadLocalRandom random = ThreadLocalRandom.current();
                while (System.nanoTime() < end) {
                    long id = rounds.incrementAndGet();
                    Statement statement = statementFor(id, inFlight, cancels, outside);
                    CancellableContext ctx = Context.background().withCancel();
                    Execution ex = new Execution(ctx, statement);
                    ex.register();
                    long cancelAfter = random.nextLong(100_000);
                    Future<?> cancelled = canceller.submit(() -> {
                        spin(cancelAfter);
                        ctx.cancel();
                    });
                    inFlight.set(id);
                    if (ex.begin()) {
                        spin(random.nextLong(200_000)); // the driver running the statement
                    } else {
                        refusedAtBegin.increment();
                    }
                    ex.finish();
                    inFlight.set(0);
                    cancelled.get(10, TimeUnit.SECONDS);
                }
                return null;
            }).get(50, TimeUnit.SECONDS);
        }
        System.out.printf("[stress] Execution on %s threads: %d executions, %d cancel() calls, %d refused at begin,"
                + " %d cancel() calls outside their execution%n", virtual ? "virtual" : "platform", rounds.get(),
                cancels.sum(), refusedAtBegin.sum(), outside.sum());
        assertEquals(0, outside.sum(), "cancel() reached a statement outside its execution");
        assertTrue(cancels.sum() > 0, "no cancel ever happened");
    }

    private static Statement statementFor(long id, AtomicLong inFlight, LongAdder cancels, LongAdder outside) {
        return (Statement) Proxy.newProxyInstance(ExecutionStressTest.class.getClassLoader(),
                new Class<?>[] {Statement.class}, (proxy, method, args) -> {
                    if (!method.getName().equals("cancel")) {
                        throw new UnsupportedOperationException(method.getName());
                    }
                    cancels.increment();
                    if (inFlight.get() != id) {
                        outside.increment();
                    }
                    spin(ThreadLocalRandom.current().nextLong(20_000));
                    if (inFlight.get() != id) {
                        outside.increment(); // finish() returned while this cancel was still in progress
                    }
                    return null;
                });
    }

    private static void spin(long nanos) {
        long until = System.nanoTime() + nanos;
        while (System.nanoTime() < until) {
            Thread.onSpinWait();
        }
    }
}
