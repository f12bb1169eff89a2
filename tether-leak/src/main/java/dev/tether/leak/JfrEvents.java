package dev.tether.leak;

import org.jspecify.annotations.Nullable;

/**
 * Emits Tether's JFR events for what the leak detector finds. SKELETON: the JFR helper replaces these bodies with
 * real jdk.jfr events (and adds the context events); the leak detector calls these signatures.
 */
final class JfrEvents {

    private JfrEvents() {}

    /** A task still runs {@code outlivedMillis} after its context ended. */
    static void leakSuspected(String contextId, String lineage, String threadName, boolean virtualThread,
            long outlivedMillis, String classification, @Nullable String creationSite) {
        throw new UnsupportedOperationException("skeleton: JfrEvents.leakSuspected not written yet");
    }

    /** A cancellable context was garbage-collected without its cancel()/close() ever being called. */
    static void lostCancel(String contextId, String kind, @Nullable String creationSite, long ageMillis) {
        throw new UnsupportedOperationException("skeleton: JfrEvents.lostCancel not written yet");
    }

    /** A cancellable context was created deeper than the configured threshold. */
    static void deepChain(String contextId, int depth, @Nullable String creationSite) {
        throw new UnsupportedOperationException("skeleton: JfrEvents.deepChain not written yet");
    }
}
