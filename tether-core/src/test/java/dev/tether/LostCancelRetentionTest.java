package dev.tether;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Deadlines are lazy, so a timed child that is never cancelled (Go's lost cancel) and never looked at does not
 * end on its own. Its parent must still not accumulate such children without bound: adding children sweeps the
 * expired ones out, as Go's timers would have.
 */
class LostCancelRetentionTest {

    @Test
    void expiredChildrenThatWereNeverCancelledAreSweptOutOfALiveParent() {
        ManualTimeSource time = ManualTimeSource.create();
        CancellableContext parent = Context.root(time).withCancel();
        for (int i = 0; i < 10_000; i++) {
            parent.withTimeout(Duration.ofMillis(1)); // lost: neither cancelled nor observed
        }
        assertEquals(10_000, ((CancelContext) parent).childCount());
        time.advance(Duration.ofMillis(2));

        List<CancellableContext> live = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            live.add(parent.withTimeout(Duration.ofHours(1))); // owns a deadline, so it registers (and sweeps)
        }

        int held = ((CancelContext) parent).childCount();
        assertTrue(held < 2 * live.size(), "parent holds " + held + " children for " + live.size() + " live ones");
        live.forEach(CancellableContext::cancel);
        assertEquals(0, ((CancelContext) parent).childCount());
        parent.cancel();
    }
}
