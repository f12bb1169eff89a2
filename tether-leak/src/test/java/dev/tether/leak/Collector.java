package dev.tether.leak;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/** A listener that queues what it hears, for tests to take with a bound. */
final class Collector implements LeakListener {

    static final long WAIT_SECONDS = 10;

    final BlockingQueue<LeakReport> leaks = new LinkedBlockingQueue<>();
    final BlockingQueue<LostCancel> lostCancels = new LinkedBlockingQueue<>();
    final BlockingQueue<DeepChain> deepChains = new LinkedBlockingQueue<>();

    @Override
    public void onLeak(LeakReport report) {
        leaks.add(report);
    }

    @Override
    public void onLostCancel(LostCancel lost) {
        lostCancels.add(lost);
    }

    @Override
    public void onDeepChain(DeepChain chain) {
        deepChains.add(chain);
    }

    /** The next report, waiting up to the bound. */
    LeakReport nextLeak() throws InterruptedException {
        LeakReport r = leaks.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        assertNotNull(r, "no leak report within " + WAIT_SECONDS + " s");
        return r;
    }

    static <T> T take(BlockingQueue<T> queue, String what) throws InterruptedException {
        @Nullable T t = queue.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        assertNotNull(t, "no " + what + " within " + WAIT_SECONDS + " s");
        return t;
    }
}
