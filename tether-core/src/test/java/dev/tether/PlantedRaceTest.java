package dev.tether;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.Stress.Threads;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Shows once that the stress harness catches a real race, so that a green {@link CancellationStressTest} means
 * something.
 *
 * <p>What it proves: the very scenario that {@link CancellationStressTest} runs against Tether
 * ({@link ChildRace#scenario}: a child derived while its parent is being cancelled, the two actors released
 * together by {@link Stress}, the same checks) reports a missed child when run against {@link NaiveTree}, a tree
 * with the check-then-act bug that Tether's register-then-recheck closes; and against Tether's withCancel, for at
 * least as long, it reports none. So the harness really makes the two actors overlap inside a window of about a
 * microsecond, and its checks really see a missed child.
 *
 * <p>The naive tree's window is widened by {@link NaiveTree#WINDOW_SPINS} spin-waits (about 1 µs here). Without
 * them the race is still caught, usually within a second, but not reliably on two cores shared with other work.
 * Tether's own windows are of that narrower kind, which is why its stress tests run tens of thousands of rounds.
 */
class PlantedRaceTest {

    @AfterEach
    void currentIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
    }

    @Test
    void harnessCatchesTheCheckThenActRace_inTheNaiveTree_butNotInTether() {
        for (Threads threads : Threads.values()) {
            // The naive run stops at the first missed child, usually within tens of milliseconds; the generous
            // cap is for a loaded machine whose scheduler keeps both actors on one core for a while.
            long cap = 4 * Stress.BUDGET_MILLIS;

            Stress.Result naive = Stress.of("planted race: naive tree", threads)
                    .budgetMillis(cap)
                    .batch(64)
                    .run(2, ChildRace.scenario(NaiveTree.Race::new));
            Stress.Result tether = Stress.of("planted race: the same scenario on Tether", threads)
                    .budgetMillis(Math.max(Stress.BUDGET_MILLIS / 4, naive.millis()))
                    .batch(64)
                    .run(2, ChildRace.scenario(() -> new ChildRace.OnTether(
                            ChildRace.Derived.WITH_CANCEL, ChildRace.Cancelled.PARENT, true)));

            assertTrue(naive.failed() && String.valueOf(naive.failure()).contains("MISSED CHILD"),
                    "the harness did not catch the planted race within " + cap + " ms: " + naive);
            assertFalse(tether.failed(), tether::toString);
        }
    }
}
