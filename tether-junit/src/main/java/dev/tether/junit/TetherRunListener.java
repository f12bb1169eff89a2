package dev.tether.junit;

import dev.tether.leak.LeakDetector;
import dev.tether.leak.LeakReport;
import java.io.PrintStream;
import java.util.List;
import java.util.Objects;
import org.junit.platform.engine.ConfigurationParameters;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestPlan;
import org.jspecify.annotations.Nullable;

/**
 * The whole-run check: reports, at the end of a test run, every task started through Tether that still runs.
 * Registered with the JUnit Platform launcher by {@link java.util.ServiceLoader}, so having tether-junit on the
 * test class path is enough (Go's {@code goleak.VerifyTestMain}).
 *
 * <p>When the run starts, it installs a {@link LeakDetector} at level FULL (the configuration parameter
 * {@code tether.leak.level} changes it), unless one is installed already; {@link TetherLeakCheck} tests then use
 * it too. When the run ends, it waits with back-off up to {@code tether.leak.waitMillis} (default 2000) for
 * tracked tasks to end, prints those still running to standard error with their report, and uninstalls the
 * detector it installed. It leaves out {@code tether.leak.ignoreThreads} and {@code tether.leak.ignoreCreatedBy}
 * like the per-test check. The configuration parameter {@code tether.leak.runCheck=false} turns it off.
 *
 * <p>A listener cannot fail the run; the report is for the person reading the build's output.
 */
public final class TetherRunListener implements TestExecutionListener {

    private final PrintStream out;
    // Written and read by the launcher's thread, which calls both methods.
    private @Nullable LeakDetector watching;
    private @Nullable LeakDetector owned;
    private @Nullable Settings settings;

    /** Reports to standard error; the launcher makes it. */
    public TetherRunListener() {
        this(System.err);
    }

    /** Reports to {@code out}. */
    public TetherRunListener(PrintStream out) {
        this.out = Objects.requireNonNull(out, "out must not be null");
    }

    @Override
    public void testPlanExecutionStarted(TestPlan testPlan) {
        ConfigurationParameters parameters = testPlan.getConfigurationParameters();
        if (!parameters.getBoolean(Settings.RUN_CHECK).orElse(true)) {
            return;
        }
        settings = Settings.of(parameters::get, List.of());
        LeakDetector installed = LeakDetector.installed();
        if (installed == null) {
            owned = installed = LeakDetector.install(Settings.detectorOptions(parameters::get));
        }
        watching = installed;
    }

    @Override
    public void testPlanExecutionFinished(TestPlan testPlan) {
        LeakDetector detector = watching;
        Settings s = settings;
        watching = null;
        settings = null;
        try {
            if (detector == null || s == null || detector.isClosed()) {
                return;
            }
            LeakReport left = s.awaitNoneRunning(detector::running, detector::notStarted);
            if (!left.isEmpty()) {
                int n = left.tasks().size();
                out.println("Tether: " + n + (n == 1 ? " task" : " tasks") + " started through Tether "
                        + (n == 1 ? "still runs" : "still run") + " at the end of the test run (waited "
                        + s.waitMillis + " ms):");
                left.printTo(out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            LeakDetector mine = owned;
            owned = null;
            if (mine != null) {
                mine.close();
            }
        }
    }
}
