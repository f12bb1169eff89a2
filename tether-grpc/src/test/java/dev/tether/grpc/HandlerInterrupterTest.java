package dev.tether.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The interrupt of a fired guard lands inside the callback or not at all, on platform and virtual threads. */
@Timeout(60)
class HandlerInterrupterTest {

    static final long STRESS_MILLIS = Long.getLong("tether.stress.millis", 1500);

    @Test
    void fireBeforeTheCallbackStartsInterruptsNothing() {
        HandlerInterrupter guard = new HandlerInterrupter();

        guard.fire();
        guard.enter();
        boolean interrupted = Thread.currentThread().isInterrupted();
        guard.exit();

        assertFalse(interrupted);
    }

    @Test
    void fireDuringTheCallbackInterruptsItAndExitClearsTheFlag() {
        HandlerInterrupter guard = new HandlerInterrupter();
        guard.enter();

        guard.fire();
        boolean interruptedInside = Thread.currentThread().isInterrupted();
        guard.exit();

        assertTrue(interruptedInside);
        assertFalse(Thread.currentThread().isInterrupted());
    }

    @Test
    void anInterruptFromElsewhereOutsideTheCallbackIsLeftAlone() {
        HandlerInterrupter guard = new HandlerInterrupter();
        guard.enter();
        guard.exit();

        Thread.currentThread().interrupt();
        guard.fire();

        assertTrue(Thread.interrupted(), "not ours to clear");
    }

    @ParameterizedTest(name = "virtual={0}")
    @ValueSource(booleans = {false, true})
    void anInterruptNeverOutlivesTheCallback(boolean virtual) throws InterruptedException {
        long end = System.nanoTime() + STRESS_MILLIS * 1_000_000;
        int rounds = 0;
        int landedInside = 0;
        int leaked = 0;
        while (System.nanoTime() < end || rounds < 200) {
            HandlerInterrupter guard = new HandlerInterrupter();
            CountDownLatch inside = new CountDownLatch(1);
            AtomicBoolean sawInterrupt = new AtomicBoolean();
            AtomicBoolean leak = new AtomicBoolean();
            int work = ThreadLocalRandom.current().nextInt(200);
            Runnable callback = () -> {
                guard.enter();
                inside.countDown();
                for (int i = 0; i < work && !sawInterrupt.get(); i++) {
                    sawInterrupt.set(Thread.currentThread().isInterrupted());
                    Thread.onSpinWait();
                }
                guard.exit();
                leak.set(Thread.currentThread().isInterrupted());
            };
            Thread t = virtual ? Thread.ofVirtual().start(callback) : Thread.ofPlatform().start(callback);
            inside.await();
            for (int i = ThreadLocalRandom.current().nextInt(200); i > 0; i--) {
                Thread.onSpinWait();
            }

            guard.fire();
            t.join();

            rounds++;
            landedInside += sawInterrupt.get() ? 1 : 0;
            leaked += leak.get() ? 1 : 0;
        }
        assertEquals(0, leaked, "rounds whose thread left the callback interrupted, of " + rounds);
        assertTrue(landedInside > 0, "the race was exercised: some interrupts landed inside, of " + rounds);
    }
}
