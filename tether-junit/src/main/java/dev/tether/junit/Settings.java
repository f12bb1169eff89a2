package dev.tether.junit;

import dev.tether.leak.LeakDetector;
import dev.tether.leak.LeakListener;
import dev.tether.leak.LeakReport;
import dev.tether.leak.TaskInfo;
import java.lang.reflect.AnnotatedElement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * What a check waits for and leaves out: from {@link TetherLeakCheck} annotations and the {@code tether.leak.*}
 * configuration parameters. Also the back-off wait both checks share.
 */
final class Settings {

    static final String WAIT_MILLIS = "tether.leak.waitMillis";
    static final String IGNORE_THREADS = "tether.leak.ignoreThreads";
    static final String IGNORE_CREATED_BY = "tether.leak.ignoreCreatedBy";
    static final String LEVEL = "tether.leak.level";
    static final String RUN_CHECK = "tether.leak.runCheck";
    static final long DEFAULT_WAIT_MILLIS = 2000;

    private static final long FIRST_PAUSE_MILLIS = 1;
    private static final long MAX_PAUSE_MILLIS = 100;

    final long waitMillis;
    final List<Pattern> ignoreThreads;
    final List<String> ignoreCreatedBy;

    private Settings(long waitMillis, List<Pattern> ignoreThreads, List<String> ignoreCreatedBy) {
        this.waitMillis = waitMillis;
        this.ignoreThreads = List.copyOf(ignoreThreads);
        this.ignoreCreatedBy = List.copyOf(ignoreCreatedBy);
    }

    /**
     * Settings from configuration parameters ({@code parameters} answers one by name) and annotations, nearest
     * first (the test method, then its class and enclosing classes).
     */
    static Settings of(Function<String, Optional<String>> parameters, List<? extends AnnotatedElement> elements) {
        long wait = -1;
        List<Pattern> threads = new ArrayList<>();
        List<String> classes = new ArrayList<>();
        for (AnnotatedElement e : elements) {
            TetherLeakCheck check = e.getAnnotation(TetherLeakCheck.class);
            if (check == null) {
                continue;
            }
            if (wait < 0 && check.waitMillis() >= 0) {
                wait = check.waitMillis();
            }
            for (String regex : check.ignoreThreads()) {
                threads.add(pattern(regex, "@TetherLeakCheck(ignoreThreads) on " + e));
            }
            for (String name : check.ignoreCreatedBy()) {
                classes.add(className(name, "@TetherLeakCheck(ignoreCreatedBy) on " + e));
            }
        }
        if (wait < 0) {
            wait = parameters.apply(WAIT_MILLIS).map(v -> parseWait(v)).orElse(DEFAULT_WAIT_MILLIS);
        }
        for (String regex : list(parameters.apply(IGNORE_THREADS))) {
            threads.add(pattern(regex, "configuration parameter " + IGNORE_THREADS));
        }
        for (String name : list(parameters.apply(IGNORE_CREATED_BY))) {
            classes.add(className(name, "configuration parameter " + IGNORE_CREATED_BY));
        }
        return new Settings(wait, threads, classes);
    }

    /** The level of a detector installed for tests: FULL unless {@code tether.leak.level} says otherwise. */
    static LeakDetector.Options detectorOptions(Function<String, Optional<String>> parameters) {
        LeakDetector.Level level = parameters.apply(LEVEL).map(v -> switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "sampled" -> LeakDetector.Level.SAMPLED;
            case "full" -> LeakDetector.Level.FULL;
            default -> throw new IllegalArgumentException(
                    LEVEL + ": \"" + v + "\" (expected: sampled or full; to turn checks off, leave the extension out)");
        }).orElse(LeakDetector.Level.FULL);
        // Tests query the detector themselves; nothing is logged behind their back.
        return LeakDetector.Options.defaults().withLevel(level).withListener(LeakListener.none());
    }

    private static long parseWait(String value) {
        try {
            long v = Long.parseLong(value.trim());
            if (v >= 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException(WAIT_MILLIS + ": \"" + value + "\" (expected: milliseconds >= 0)");
    }

    private static List<String> list(Optional<String> value) {
        List<String> out = new ArrayList<>();
        if (value.isPresent()) {
            for (String part : value.get().split(",")) {
                if (!part.isBlank()) {
                    out.add(part.trim());
                }
            }
        }
        return out;
    }

    private static Pattern pattern(String regex, String where) {
        try {
            return Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException(where + ": \"" + regex + "\" is not a regular expression: "
                    + e.getDescription(), e);
        }
    }

    private static String className(String name, String where) {
        String trimmed = name.trim();
        if (trimmed.isEmpty() || trimmed.contains("(") || trimmed.contains("/")) {
            throw new IllegalArgumentException(where + ": \"" + name
                    + "\" (expected: a fully qualified class name, such as com.example.Poller)");
        }
        return trimmed;
    }

    /** Whether a task is known background work to leave out. */
    boolean ignores(TaskInfo task) {
        for (Pattern p : ignoreThreads) {
            if (p.matcher(task.thread()).matches()) {
                return true;
            }
        }
        if (ignoreCreatedBy.isEmpty()) {
            return false;
        }
        List<String> frames = task.creationStack().isEmpty() ? task.stack() : task.creationStack();
        for (String frame : frames) {
            String qualified = frame.substring(frame.indexOf('/') + 1);
            for (String c : ignoreCreatedBy) {
                if (qualified.startsWith(c) && qualified.length() > c.length()
                        && (qualified.charAt(c.length()) == '.' || qualified.charAt(c.length()) == '$')) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Looks at {@code running} until it is empty (ignored tasks left out) and no task is waiting to start
     * ({@code notStarted}), or {@link #waitMillis} have passed, pausing 1 ms, then twice as long each time, at most
     * 100 ms (goleak's back-off). Returns the last look. Tasks that never start delay the answer but are not in
     * it: a task handed out and never run is no leak.
     */
    LeakReport awaitNoneRunning(Supplier<LeakReport> running, IntSupplier notStarted) throws InterruptedException {
        long deadline = System.nanoTime() + waitMillis * 1_000_000L;
        long pause = FIRST_PAUSE_MILLIS;
        while (true) {
            int waiting = notStarted.getAsInt();
            LeakReport report = running.get().filter(t -> !ignores(t));
            long left = deadline - System.nanoTime();
            if ((report.isEmpty() && waiting == 0) || left <= 0) {
                return report;
            }
            Thread.sleep(Math.min(pause, Math.max(1, left / 1_000_000L)));
            pause = Math.min(pause * 2, MAX_PAUSE_MILLIS);
        }
    }
}
