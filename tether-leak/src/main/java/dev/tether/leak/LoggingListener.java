package dev.tether.leak;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** {@link LeakListener#logging()}: WARNING on the {@code dev.tether.leak} logger, each creation site in full once. */
final class LoggingListener implements LeakListener {

    private static final System.Logger LOG = System.getLogger("dev.tether.leak");
    /** Sites logged in full; past this many, every leak is logged in full again rather than remembered. */
    private static final int MAX_SITES = 1024;

    private final Set<String> logged = ConcurrentHashMap.newKeySet();

    @Override
    public void onLeak(LeakReport report) {
        if (!LOG.isLoggable(System.Logger.Level.WARNING)) {
            return;
        }
        boolean allSeen = true;
        for (LeakReport.Group g : report.groups()) {
            if (logged.size() >= MAX_SITES || logged.add(g.key())) {
                allSeen = false;
            }
        }
        if (allSeen) {
            StringBuilder line = new StringBuilder("Tether: ").append(report.tasks().size())
                    .append(" more task(s) outlived their context at site(s) reported before:");
            for (LeakReport.Group g : report.groups()) {
                line.append(' ').append(g.key()).append(" (").append(g.count()).append(')');
            }
            LOG.log(System.Logger.Level.WARNING, line.toString());
        } else {
            LOG.log(System.Logger.Level.WARNING, report.toText());
        }
    }

    @Override
    public void onLostCancel(LostCancel lost) {
        LOG.log(System.Logger.Level.WARNING, "Tether: " + lost.toText());
    }

    @Override
    public void onDeepChain(DeepChain chain) {
        LOG.log(System.Logger.Level.WARNING, "Tether: " + chain.toText());
    }

    @Override
    public String toString() {
        return "LeakListener.logging()";
    }
}
