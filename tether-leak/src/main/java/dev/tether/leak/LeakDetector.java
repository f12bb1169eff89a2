package dev.tether.leak;

import dev.tether.CancellableContext;
import dev.tether.TimeSource;
import dev.tether.spi.ContextObservers;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;

/**
 * Finds work that outlives its context and says which request it belonged to. Once installed, every task
 * started through Tether ({@code TaskGroup} forks, {@code wrap}, {@code run} and {@code call}, and so the
 * executors and thread factories of {@code ContextExecutors}) is recorded against its context; when a context
 * ends with tasks still running, they are checked once, a grace period later, and those still running are
 * reported to the {@link LeakListener}: with their context's lineage, who ended it, their thread's state and
 * stack, a {@link Classification} and where they were made. Nothing scans periodically.
 *
 * {@snippet :
 * try (LeakDetector leaks = LeakDetector.install()) {       // level etc. from -Ddev.tether.leak.* properties
 *     server.run();                                         // leaks are logged at WARNING on "dev.tether.leak"
 * }
 *
 * LeakDetector leaks = LeakDetector.install(LeakDetector.Options.defaults()
 *         .withLevel(LeakDetector.Level.FULL)
 *         .withGracePeriod(Duration.ofMillis(500))
 *         .withListener(LeakListener.printingTo(System.err)));
 * }
 *
 * <h2>Levels</h2>
 * {@link Level#OFF} installs nothing. {@link Level#SAMPLED}, the default, records every task and context in a few
 * words of memory and captures the creation stack of one task (and one context) in N. {@link Level#FULL}
 * captures every stack: for tests.
 *
 * <p>It also reports cancellable contexts that were garbage-collected without {@code cancel()} or
 * {@code close()} ever being called ({@link LostCancel}; sampled contexts, all at FULL), and context chains
 * deeper than a threshold ({@link DeepChain}). With Flight Recorder running it emits JFR events for all three.
 *
 * <h2>Threads and memory</h2>
 * An installed detector starts two daemon platform threads: {@code tether-leak-reaper}, which waits on a
 * reference queue for contexts the collector has cleared, and {@code tether-leak-checks}, started on the first
 * check. It holds contexts and threads only weakly. {@link #close()} uninstalls it and stops both threads.
 *
 * <h2>System properties</h2>
 * {@link Options#fromSystemProperties()} (which {@link #install()} uses) reads {@code dev.tether.leak.level}
 * ({@code off}, {@code sampled}, {@code full}), {@code dev.tether.leak.sampleInterval},
 * {@code dev.tether.leak.gracePeriodMillis}, {@code dev.tether.leak.maxChainDepth} and
 * {@code dev.tether.leak.lostCancels} ({@code true}, {@code false}).
 */
public final class LeakDetector implements AutoCloseable {

    /** How much a detector records. */
    public enum Level {
        /** Nothing: installing installs no observer, and Tether runs as without a detector. */
        OFF,
        /**
         * Every task and context is recorded (a small record each; a context's first task registers one onDone
         * listener on it); the creation stacks of one task and one context in {@code sampleInterval} are
         * captured, and only sampled contexts are watched for lost cancels. Meant to stay on in production.
         */
        SAMPLED,
        /** As SAMPLED, but every task's and every context's stack is captured and every context watched: for tests. */
        FULL
    }

    /** Open detectors, the latest last; {@link #installed()} answers from it. */
    private static final List<LeakDetector> OPEN = new CopyOnWriteArrayList<>();

    private final Options options;
    private final @Nullable Tracker tracker;
    private final ContextObservers.@Nullable Installation installation;
    private volatile boolean closed;

    private LeakDetector(Options options) {
        this.options = options;
        if (options.level() == Level.OFF) {
            this.tracker = null;
            this.installation = null;
        } else {
            Tracker t = new Tracker(options);
            this.tracker = t;
            try {
                this.installation = ContextObservers.install(t);
            } catch (RuntimeException e) {
                t.close();
                throw e;
            }
        }
    }

    /** Installs a detector configured by system properties ({@link Options#fromSystemProperties()}). */
    public static LeakDetector install() {
        return install(Options.fromSystemProperties());
    }

    /**
     * Installs a detector with {@code options}; at {@link Level#OFF}, returns one that installs nothing and
     * reports nothing. Several detectors may be installed at once; each sees every context and task.
     */
    public static LeakDetector install(Options options) {
        Objects.requireNonNull(options, "options must not be null");
        LeakDetector detector = new LeakDetector(options);
        if (detector.tracker != null) {
            OPEN.add(detector);
        }
        return detector;
    }

    /** The most recently installed detector that is still open and not OFF, if any. */
    public static @Nullable LeakDetector installed() {
        Object[] open = OPEN.toArray();
        return open.length == 0 ? null : (LeakDetector) open[open.length - 1];
    }

    /** This detector's level. */
    public Level level() {
        return options.level();
    }

    /** The options this detector was installed with. */
    public Options options() {
        return options;
    }

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Names {@code context} in reports and in the context map, in place of its creation site: a route, a job, a
     * test. Does nothing at level OFF, after close, or for a context made before the detector was installed and
     * not seen since.
     */
    public void label(CancellableContext context, String label) {
        Objects.requireNonNull(context, "context must not be null");
        Objects.requireNonNull(label, "label must not be null");
        Tracker t = tracker;
        if (t == null || closed) {
            return;
        }
        CtxRecord r = t.find(context);
        if (r != null) {
            r.label = label;
        }
    }

    /**
     * The tasks that still run a grace period or more after their context ended, now. Unlike the listener, this
     * reports a task every time it is called.
     */
    public LeakReport leaks() {
        Tracker t = active();
        return t == null ? empty() : t.leaks();
    }

    /** Every task started through Tether that is still running, its context live or not. */
    public LeakReport running() {
        Tracker t = active();
        return t == null ? empty() : t.running();
    }

    /**
     * Every task still running in {@code root} or a context derived from it, however recently its context ended.
     * Attribution is by lineage, so other work running at the same time is never included.
     */
    public LeakReport runningUnder(CancellableContext root) {
        Objects.requireNonNull(root, "root must not be null");
        Tracker t = active();
        return t == null ? empty() : t.runningUnder(root);
    }

    /**
     * How many tasks submitted in {@code root} or a context derived from it (wrapped, forked) have not started
     * yet. Counted at level FULL only (0 at the others). A check right after the work was handed out waits for
     * these before it concludes that nothing runs; the JUnit extension does. Forks of a {@code TaskGroup} whose
     * context is done never start, and are not counted.
     */
    public int notStartedUnder(CancellableContext root) {
        Objects.requireNonNull(root, "root must not be null");
        Tracker t = active();
        return t == null ? 0 : t.notStartedUnder(root);
    }

    /** How many tasks submitted anywhere have not started yet; level FULL only, as {@link #notStartedUnder}. */
    public int notStarted() {
        Tracker t = active();
        return t == null ? 0 : t.notStarted(null);
    }

    /**
     * Prints {@link #leaks()} to {@code out} as text (one line saying so when there are none): what a demo or a
     * shutdown hook calls.
     */
    public void printLeaks(PrintStream out) {
        Objects.requireNonNull(out, "out must not be null");
        leaks().printTo(out);
    }

    /** The tracker, for {@link ContextMap} and tests; null at OFF or after close. */
    @Nullable Tracker tracker() {
        return closed ? null : tracker;
    }

    private @Nullable Tracker active() {
        return closed ? null : tracker;
    }

    private LeakReport empty() {
        return LeakReport.of(options.timeSource().now(), List.of());
    }

    /** Uninstalls the detector and stops its threads. Idempotent. Tasks running now are no longer tracked. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        OPEN.remove(this);
        if (installation != null) {
            installation.close();
        }
        if (tracker != null) {
            tracker.close();
        }
    }

    @Override
    public String toString() {
        return "LeakDetector[" + options.level() + (closed ? ", closed" : "") + "]";
    }

    /**
     * How a detector works: an immutable value; each {@code with…} returns a changed copy.
     *
     * {@snippet :
     * LeakDetector.Options options = LeakDetector.Options.defaults()
     *         .withLevel(LeakDetector.Level.FULL)
     *         .withGracePeriod(Duration.ofMillis(200));
     * }
     */
    public static final class Options {

        /** The system property that sets the level: {@code off}, {@code sampled} or {@code full}. */
        public static final String LEVEL_PROPERTY = "dev.tether.leak.level";
        /** The system property that sets the sample interval. */
        public static final String SAMPLE_INTERVAL_PROPERTY = "dev.tether.leak.sampleInterval";
        /** The system property that sets the grace period in milliseconds. */
        public static final String GRACE_PERIOD_PROPERTY = "dev.tether.leak.gracePeriodMillis";
        /** The system property that sets the chain depth threshold. */
        public static final String MAX_CHAIN_DEPTH_PROPERTY = "dev.tether.leak.maxChainDepth";
        /** The system property that turns lost-cancel tracking on or off: {@code true} or {@code false}. */
        public static final String LOST_CANCELS_PROPERTY = "dev.tether.leak.lostCancels";

        private static final Options DEFAULTS = new Options(Level.SAMPLED, 64, Duration.ofSeconds(2), 32, true,
                LeakListener.logging(), TimeSource.system());

        private final Level level;
        private final int sampleInterval;
        private final Duration gracePeriod;
        private final int maxChainDepth;
        private final boolean trackLostCancels;
        private final LeakListener listener;
        private final TimeSource timeSource;

        private Options(Level level, int sampleInterval, Duration gracePeriod, int maxChainDepth,
                boolean trackLostCancels, LeakListener listener, TimeSource timeSource) {
            this.level = level;
            this.sampleInterval = sampleInterval;
            this.gracePeriod = gracePeriod;
            this.maxChainDepth = maxChainDepth;
            this.trackLostCancels = trackLostCancels;
            this.listener = listener;
            this.timeSource = timeSource;
        }

        /**
         * SAMPLED, a creation stack for 1 task in 64, a grace period of 2 s, chains deeper than 32 reported,
         * lost cancels tracked, findings logged ({@link LeakListener#logging()}), the system clock.
         */
        public static Options defaults() {
            return DEFAULTS;
        }

        /**
         * {@link #defaults()}, with what the {@code dev.tether.leak.*} system properties set.
         *
         * @throws IllegalArgumentException if a property has a value that is not allowed, naming it
         */
        public static Options fromSystemProperties() {
            Options o = DEFAULTS;
            String level = System.getProperty(LEVEL_PROPERTY);
            if (level != null) {
                o = o.withLevel(switch (level.trim().toLowerCase(Locale.ROOT)) {
                    case "off" -> Level.OFF;
                    case "sampled" -> Level.SAMPLED;
                    case "full" -> Level.FULL;
                    default -> throw new IllegalArgumentException(
                            LEVEL_PROPERTY + ": \"" + level + "\" (expected: off, sampled or full)");
                });
            }
            Long interval = longProperty(SAMPLE_INTERVAL_PROPERTY, "a whole number >= 1");
            if (interval != null) {
                if (interval < 1 || interval > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException(SAMPLE_INTERVAL_PROPERTY + ": " + interval
                            + " (expected: 1 to " + Integer.MAX_VALUE + ")");
                }
                o = o.withSampleInterval(interval.intValue());
            }
            Long grace = longProperty(GRACE_PERIOD_PROPERTY, "milliseconds >= 0");
            if (grace != null) {
                if (grace < 0) {
                    throw new IllegalArgumentException(GRACE_PERIOD_PROPERTY + ": " + grace + " (expected: >= 0)");
                }
                o = o.withGracePeriod(Duration.ofMillis(grace));
            }
            Long depth = longProperty(MAX_CHAIN_DEPTH_PROPERTY, "a whole number >= 1");
            if (depth != null) {
                if (depth < 1 || depth > Integer.MAX_VALUE - 1) {
                    throw new IllegalArgumentException(MAX_CHAIN_DEPTH_PROPERTY + ": " + depth
                            + " (expected: 1 to " + (Integer.MAX_VALUE - 1) + ")");
                }
                o = o.withMaxChainDepth(depth.intValue());
            }
            String lost = System.getProperty(LOST_CANCELS_PROPERTY);
            if (lost != null) {
                o = o.withLostCancelTracking(switch (lost.trim().toLowerCase(Locale.ROOT)) {
                    case "true" -> true;
                    case "false" -> false;
                    default -> throw new IllegalArgumentException(
                            LOST_CANCELS_PROPERTY + ": \"" + lost + "\" (expected: true or false)");
                });
            }
            return o;
        }

        private static @Nullable Long longProperty(String name, String expected) {
            String value = System.getProperty(name);
            if (value == null) {
                return null;
            }
            try {
                return Long.parseLong(value.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + ": \"" + value + "\" (expected: " + expected + ")", e);
            }
        }

        /** With the given level. */
        public Options withLevel(Level level) {
            Objects.requireNonNull(level, "level must not be null");
            return new Options(level, sampleInterval, gracePeriod, maxChainDepth, trackLostCancels, listener,
                    timeSource);
        }

        /**
         * At level SAMPLED, capture the creation stack of one task and one context in {@code n} (1: all).
         *
         * @throws IllegalArgumentException if n is less than 1
         */
        public Options withSampleInterval(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("sampleInterval: " + n + " (expected: >= 1)");
            }
            return new Options(level, n, gracePeriod, maxChainDepth, trackLostCancels, listener, timeSource);
        }

        /**
         * How long a task may run on after its context ended before it is reported: time to notice the end and
         * unwind. Zero reports at once.
         *
         * @throws IllegalArgumentException if the grace period is negative
         */
        public Options withGracePeriod(Duration gracePeriod) {
            Objects.requireNonNull(gracePeriod, "gracePeriod must not be null");
            if (gracePeriod.isNegative()) {
                throw new IllegalArgumentException("gracePeriod: " + gracePeriod + " (expected: >= 0)");
            }
            Duration capped = gracePeriod.compareTo(Duration.ofDays(365)) > 0 ? Duration.ofDays(365) : gracePeriod;
            return new Options(level, sampleInterval, capped, maxChainDepth, trackLostCancels, listener, timeSource);
        }

        /**
         * Report the first context whose chain of cancellable contexts (itself included) is longer than
         * {@code depth}.
         *
         * @throws IllegalArgumentException if depth is less than 1
         */
        public Options withMaxChainDepth(int depth) {
            if (depth < 1 || depth == Integer.MAX_VALUE) {
                throw new IllegalArgumentException("maxChainDepth: " + depth + " (expected: 1 to "
                        + (Integer.MAX_VALUE - 1) + ")");
            }
            return new Options(level, sampleInterval, gracePeriod, depth, trackLostCancels, listener, timeSource);
        }

        /** Whether to report contexts garbage-collected without cancel() or close(). */
        public Options withLostCancelTracking(boolean track) {
            return new Options(level, sampleInterval, gracePeriod, maxChainDepth, track, listener, timeSource);
        }

        /** Where findings go; the default logs them. */
        public Options withListener(LeakListener listener) {
            Objects.requireNonNull(listener, "listener must not be null");
            return new Options(level, sampleInterval, gracePeriod, maxChainDepth, trackLostCancels, listener,
                    timeSource);
        }

        /**
         * The clock for grace periods and the times in reports, and the timer for checks. With a test's
         * {@code ManualTimeSource}, checks run on the thread that advances it, so tests need not sleep.
         */
        public Options withTimeSource(TimeSource timeSource) {
            Objects.requireNonNull(timeSource, "timeSource must not be null");
            return new Options(level, sampleInterval, gracePeriod, maxChainDepth, trackLostCancels, listener,
                    timeSource);
        }

        /** The level. */
        public Level level() {
            return level;
        }

        /** One sampled stack in this many, at SAMPLED. */
        public int sampleInterval() {
            return sampleInterval;
        }

        /** How long a task may outlive its context before it is reported. */
        public Duration gracePeriod() {
            return gracePeriod;
        }

        /** Chains longer than this are reported. */
        public int maxChainDepth() {
            return maxChainDepth;
        }

        /** Whether lost cancels are reported. */
        public boolean trackLostCancels() {
            return trackLostCancels;
        }

        /** Where findings go. */
        public LeakListener listener() {
            return listener;
        }

        /** The clock and timer. */
        public TimeSource timeSource() {
            return timeSource;
        }

        @Override
        public String toString() {
            return "LeakDetector.Options[level=" + level + ", sampleInterval=" + sampleInterval + ", gracePeriod="
                    + gracePeriod + ", maxChainDepth=" + maxChainDepth + ", lostCancels=" + trackLostCancels
                    + ", listener=" + listener + ", timeSource=" + timeSource + "]";
        }
    }

    /** When a report made now would be dated; for ContextMap. */
    Instant now() {
        Tracker t = tracker;
        return t == null ? options.timeSource().now() : t.instant(t.time.nanoTime());
    }
}
