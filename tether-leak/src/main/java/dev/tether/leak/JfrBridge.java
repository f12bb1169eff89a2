package dev.tether.leak;

import jdk.jfr.FlightRecorder;

/**
 * Calls {@link JfrEvents} for what the tracker finds, only while Flight Recorder runs in this JVM (a recording
 * started by {@code -XX:StartFlightRecording}, {@code jcmd JFR.start} or a {@code RecordingStream}): without
 * one nothing could record the events, so nothing is built for them. A failure of the event code is logged once
 * and then ignored, so that it never breaks leak detection.
 */
final class JfrBridge {

    private static final System.Logger LOG = System.getLogger("dev.tether.leak");
    private static volatile boolean failed;

    private JfrBridge() {}

    static void leakSuspected(TaskInfo t) {
        if (!active()) {
            return;
        }
        StringBuilder lineage = new StringBuilder();
        for (ContextInfo c : t.lineage()) {
            if (!lineage.isEmpty()) {
                lineage.append(" > ");
            }
            lineage.append(c.id()).append(' ').append(c.kind());
        }
        try {
            JfrEvents.leakSuspected(t.contextId(), lineage.toString(), t.thread(), t.virtual(),
                    t.outlivedMillis() == null ? 0 : t.outlivedMillis(), t.classification().name(), t.creationSite());
        } catch (RuntimeException | LinkageError e) {
            fail(e);
        }
    }

    static void lostCancel(LostCancel lost) {
        if (!active()) {
            return;
        }
        try {
            JfrEvents.lostCancel(lost.contextId(), lost.kind(), lost.site(), lost.ageMillis());
        } catch (RuntimeException | LinkageError e) {
            fail(e);
        }
    }

    static void deepChain(DeepChain chain) {
        if (!active()) {
            return;
        }
        try {
            JfrEvents.deepChain(chain.contextId(), chain.depth(), chain.site());
        } catch (RuntimeException | LinkageError e) {
            fail(e);
        }
    }

    private static boolean active() {
        return !failed && FlightRecorder.isInitialized();
    }

    private static void fail(Throwable e) {
        if (!failed) {
            failed = true;
            LOG.log(System.Logger.Level.WARNING, "Tether's JFR events failed; leak detection goes on without them", e);
        }
    }
}
