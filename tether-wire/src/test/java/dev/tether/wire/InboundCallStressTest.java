package dev.tether.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.Context;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The races of {@link InboundCall}: a handler entering, completing or failing against a cancel arriving at any
 * moment. Every round must end the call exactly one way, run the early-end action only if it ended early, and leave
 * no interrupt behind on the handler's thread.
 */
class InboundCallStressTest {

    private static final long BUDGET_MILLIS = Long.getLong("tether.stress.millis", 1500) / 2;
    private static final InboundBudget.Result NO_HEADERS = InboundBudget.builder().build().read(h -> null);
    private static final DeadlineOrigin SELF = new DeadlineOrigin("stress", "");

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    @Timeout(60)
    void everyCallEndsExactlyOnceAndNoInterruptLeaks(boolean virtual) throws Exception {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(BUDGET_MILLIS);
        int rounds = 0;
        int early = 0;
        List<String> failures = new ArrayList<>();
        while (System.nanoTime() < until && failures.size() < 5) {
            rounds++;
            InboundCall call = InboundCall.start(Context.background(), NO_HEADERS, SELF);
            AtomicInteger actions = new AtomicInteger();
            CountDownLatch actionRan = new CountDownLatch(1);
            call.onEndedEarly(c -> {
                actions.incrementAndGet();
                actionRan.countDown();
            });
            AtomicBoolean completedByHandler = new AtomicBoolean();
            AtomicBoolean leaked = new AtomicBoolean();
            int mode = ThreadLocalRandom.current().nextInt(3);
            int jitter = ThreadLocalRandom.current().nextInt(200);
            Runnable handler = () -> {
                try (InboundCall.Entered entered = call.enter()) {
                    if (entered.admitted()) {
                        switch (mode) {
                            case 0 -> { }
                            case 1 -> LockSupport.parkNanos(ThreadLocalRandom.current().nextInt(20_000));
                            default -> {
                                for (int i = 0; i < jitter; i++) {
                                    Thread.onSpinWait();
                                }
                            }
                        }
                    }
                }
                leaked.set(Thread.currentThread().isInterrupted());
                boolean won = mode == 2 ? call.fail(new IllegalStateException("handler bug")) : call.complete();
                completedByHandler.set(won);
            };
            Thread thread = virtual ? Thread.ofVirtual().start(handler) : Thread.ofPlatform().start(handler);
            for (int i = 0; i < jitter; i++) {
                Thread.onSpinWait();
            }
            call.cancel(RequestEndedException.clientDisconnected("stress"));
            thread.join(TimeUnit.SECONDS.toMillis(10));

            if (!completedByHandler.get() && !actionRan.await(10, TimeUnit.SECONDS)) {
                // The handler lost: the early end won, or is about to (fail() defers to a done context's action).
                failures.add("round " + rounds + ": the handler lost but the early-end action never ran");
            }
            if (completedByHandler.get() == call.isEndedEarly()) {
                failures.add("round " + rounds + ": handler won " + completedByHandler.get() + ", ended early "
                        + call.isEndedEarly());
            }
            if (call.isEndedEarly()) {
                early++;
            }
            if (leaked.get()) {
                failures.add("round " + rounds + ": an interrupt outlived the handler");
            }
            if (!call.context().isDone()) {
                failures.add("round " + rounds + ": context still live");
            }
            if (actions.get() > 1) {
                failures.add("round " + rounds + ": action ran " + actions.get() + " times");
            }
        }
        assertEquals(List.of(), failures);
        assertTrue(rounds > 10, "rounds: " + rounds);
        System.out.printf("InboundCall stress (%s): %d rounds, %d ended early%n", virtual ? "virtual" : "platform",
                rounds, early);
    }
}
