package dev.tether.leak;

import org.jspecify.annotations.Nullable;

/**
 * Emits Tether's JFR events for what the leak detector finds: {@code dev.tether.LeakSuspected},
 * {@code dev.tether.LostCancel} and {@code dev.tether.DeepChain}. The context events (cancelled, deadline exceeded,
 * cancel propagation) come from {@link ContextEvents}.
 *
 * <p>Each method costs one enabled check when no recording has its event on: the event object does not escape,
 * so the JIT removes it, and the fields are filled only for an event that will be written.
 */
final class JfrEvents {

    private JfrEvents() {}

    /** A task still runs {@code outlivedMillis} after its context ended. */
    static void leakSuspected(String contextId, String lineage, String threadName, boolean virtualThread,
            long outlivedMillis, String classification, @Nullable String creationSite) {
        LeakSuspectedEvent event = new LeakSuspectedEvent();
        if (!event.shouldCommit()) {
            return;
        }
        event.contextId = contextId;
        event.lineage = lineage;
        event.threadName = threadName;
        event.virtualThread = virtualThread;
        event.outlived = outlivedMillis;
        event.classification = classification;
        event.creationSite = creationSite;
        event.commit();
    }

    /** A cancellable context was garbage-collected without its cancel()/close() ever being called. */
    static void lostCancel(String contextId, String kind, @Nullable String creationSite, long ageMillis) {
        LostCancelEvent event = new LostCancelEvent();
        if (!event.shouldCommit()) {
            return;
        }
        event.contextId = contextId;
        event.kind = kind;
        event.creationSite = creationSite;
        event.age = ageMillis;
        event.commit();
    }

    /** A cancellable context was created deeper than the configured threshold. */
    static void deepChain(String contextId, int depth, @Nullable String creationSite) {
        DeepChainEvent event = new DeepChainEvent();
        if (!event.shouldCommit()) {
            return;
        }
        event.contextId = contextId;
        event.depth = depth;
        event.creationSite = creationSite;
        event.commit();
    }
}
