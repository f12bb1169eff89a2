package dev.tether.leak;

import java.io.PrintStream;
import java.util.Objects;

/**
 * Hears what a {@link LeakDetector} finds. Called on the detector's own threads ({@code tether-leak-checks},
 * {@code tether-leak-reaper}), or on the thread that advances a test's time source; a listener may take its
 * time, but one that throws has its report dropped (and logged). Every method has an empty default.
 */
public interface LeakListener {

    /** Tasks of one context still ran a grace period after it ended. Each leaked task is reported once. */
    default void onLeak(LeakReport report) {}

    /** A cancellable context was garbage-collected without cancel() or close() ever being called on it. */
    default void onLostCancel(LostCancel lost) {}

    /** A context chain grew past the configured depth. */
    default void onDeepChain(DeepChain chain) {}

    /**
     * The default: logs to the {@code dev.tether.leak} {@link System.Logger} at WARNING. A leak at a creation
     * site already logged is logged in one line, not in full again.
     */
    static LeakListener logging() {
        return new LoggingListener();
    }

    /** Prints every finding in full to {@code out}: for demos and command-line tools. */
    static LeakListener printingTo(PrintStream out) {
        Objects.requireNonNull(out, "out must not be null");
        return new LeakListener() {
            @Override
            public void onLeak(LeakReport report) {
                report.printTo(out);
            }

            @Override
            public void onLostCancel(LostCancel lost) {
                out.println(lost.toText());
            }

            @Override
            public void onDeepChain(DeepChain chain) {
                out.println(chain.toText());
            }

            @Override
            public String toString() {
                return "LeakListener.printingTo(" + out + ")";
            }
        };
    }

    /** Hears nothing; for callers that query the detector themselves ({@link LeakDetector#leaks()}). */
    static LeakListener none() {
        return NoListener.INSTANCE;
    }
}

/** {@link LeakListener#none()}. */
enum NoListener implements LeakListener {
    INSTANCE
}
