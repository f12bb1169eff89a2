package dev.tether.leak;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.function.BooleanSupplier;

/** Runs the collector until a condition holds, within a bound: for tests of what the tracker lets go. */
final class Gc {

    private static final int TRIES = 200;

    private Gc() {}

    static void until(BooleanSupplier condition, String what) throws InterruptedException {
        for (int i = 0; i < TRIES; i++) {
            if (condition.getAsBoolean()) {
                return;
            }
            System.gc();
            Thread.sleep(10);
        }
        fail(what + ": not so after " + TRIES + " collections");
    }
}
