package dev.tether;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A long chain of derived contexts (a recursive algorithm that derives one per level, say) must not overflow the
 * stack anywhere: cancelling it is iterative (CancelContext's propagate), and so must be reading the result.
 * Go's context has no depth limit.
 */
class DeepChainTest {

    private static final int DEPTH = 10_000;

    @AfterEach
    void currentIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
    }

    @Test
    void errOfTheLeafOfADeepChain_afterTheRootIsCancelled_isTheRootsErr() {
        CancellableContext root = Context.background().withCancel();
        Context leaf = chain(root);
        Throwable cause = new IllegalStateException("why");

        root.cancel(cause);

        assertSame(root.err(), leaf.err());
        assertSame(cause, leaf.cause());
    }

    @Test
    void leafOfADeepChain_isDoneOnceTheRootsDeadlineHasPassed() {
        ManualTimeSource time = ManualTimeSource.create();
        CancellableContext root = Context.root(time).withTimeout(Duration.ofSeconds(1));
        Context leaf = chain(root);

        time.advance(Duration.ofSeconds(2));

        assertTrue(leaf.isDone());
        assertSame(root.err(), leaf.err());
    }

    private static Context chain(Context root) {
        Context c = root;
        for (int i = 0; i < DEPTH; i++) {
            c = c.withCancel();
        }
        return c;
    }
}
