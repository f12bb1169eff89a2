package dev.tether.leak;

import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Tasks that still ran when the report was made, deduplicated by creation site: each {@link Group} holds the
 * tasks made at one site, and the text shows the first of them in full (lineage, stacks, classification) and the
 * others in a line each. Readable as text ({@link #toText()}, {@link #printTo}) and as JSON ({@link #toJson()}).
 *
 * <p>A report is an immutable snapshot; it holds strings and numbers, never a context or a thread.
 */
public final class LeakReport {

    /** Tasks of a group printed in one line each, after the first; the rest are counted. */
    private static final int BRIEF_LINES = 20;
    /** Creation frames printed in text; the JSON has them all. */
    private static final int TEXT_CREATION_FRAMES = 8;

    private final Instant takenAt;
    private final List<Group> groups;
    private final List<TaskInfo> tasks;

    private LeakReport(Instant takenAt, List<Group> groups, List<TaskInfo> tasks) {
        this.takenAt = takenAt;
        this.groups = groups;
        this.tasks = tasks;
    }

    /**
     * The tasks made at one creation site. The key is the creation site; for tasks that were not sampled (no
     * creation stack), it is where they are stuck instead: {@code stuck at} and the first frame of their own code
     * in the current stack.
     *
     * @param key what the tasks have in common
     * @param creationSite the creation site, or null for unsampled tasks
     * @param tasks the tasks, in the order they started
     */
    public record Group(String key, @Nullable String creationSite, List<TaskInfo> tasks) {

        /** Validates and copies the components. */
        public Group {
            Objects.requireNonNull(key, "key must not be null");
            tasks = List.copyOf(tasks);
            if (tasks.isEmpty()) {
                throw new IllegalArgumentException("tasks: empty (expected: at least one task per group)");
            }
        }

        /** How many tasks the group holds. */
        public int count() {
            return tasks.size();
        }
    }

    /** A report of the given tasks, grouped by creation site, the largest groups first. */
    static LeakReport of(Instant takenAt, List<TaskInfo> tasks) {
        List<TaskInfo> ordered = new ArrayList<>(tasks);
        ordered.sort(Comparator.comparing(TaskInfo::startedAt).thenComparing(TaskInfo::id));
        Map<String, List<TaskInfo>> byKey = new LinkedHashMap<>();
        for (TaskInfo t : ordered) {
            byKey.computeIfAbsent(key(t), k -> new ArrayList<>()).add(t);
        }
        List<Group> groups = new ArrayList<>(byKey.size());
        for (Map.Entry<String, List<TaskInfo>> e : byKey.entrySet()) {
            groups.add(new Group(e.getKey(), e.getValue().get(0).creationSite(), e.getValue()));
        }
        groups.sort(Comparator.comparingInt(Group::count).reversed()); // stable: ties keep start order
        return new LeakReport(takenAt, List.copyOf(groups), List.copyOf(ordered));
    }

    private static String key(TaskInfo t) {
        String site = t.creationSite();
        if (site != null) {
            return site;
        }
        for (String frame : t.stack()) {
            int paren = frame.indexOf('(');
            String qualified = frame.substring(frame.indexOf('/') + 1, paren < 0 ? frame.length() : paren);
            if (!Frames.jdk(qualified)) {
                return "stuck at " + frame;
            }
        }
        return "stuck at " + (t.stack().isEmpty() ? "(no stack)" : t.stack().get(0));
    }

    /**
     * A report of the tasks that {@code keep} accepts, grouped anew: to leave out known background work.
     * {@snippet :
     * LeakReport mine = report.filter(t -> !t.thread().startsWith("metrics-"));
     * }
     */
    public LeakReport filter(Predicate<? super TaskInfo> keep) {
        Objects.requireNonNull(keep, "keep must not be null");
        List<TaskInfo> kept = new ArrayList<>(tasks.size());
        for (TaskInfo t : tasks) {
            if (keep.test(t)) {
                kept.add(t);
            }
        }
        return kept.size() == tasks.size() ? this : of(takenAt, kept);
    }

    /** When the report was made. */
    public Instant takenAt() {
        return takenAt;
    }

    /** The groups, the largest first. */
    public List<Group> groups() {
        return groups;
    }

    /** Every task of the report, in the order they started. */
    public List<TaskInfo> tasks() {
        return tasks;
    }

    /** Whether the report holds no task. */
    public boolean isEmpty() {
        return tasks.isEmpty();
    }

    /** Prints {@link #toText()} to {@code out}. */
    public void printTo(PrintStream out) {
        Objects.requireNonNull(out, "out must not be null");
        out.print(toText());
        out.flush();
    }

    /** The report as readable text, ending with a newline. */
    public String toText() {
        StringBuilder out = new StringBuilder(1024);
        int outlived = 0;
        for (TaskInfo t : tasks) {
            if (t.outlivedMillis() != null) {
                outlived++;
            }
        }
        out.append("Tether leak report, ").append(Json.iso(takenAt)).append(": ");
        if (tasks.isEmpty()) {
            return out.append("no task outlived its context\n").toString();
        }
        out.append(plural(tasks.size(), "task")).append(" still running");
        if (outlived == tasks.size()) {
            out.append(" after their context ended");
        } else if (outlived == 0) {
            out.append(", their context live");
        } else {
            out.append(", ").append(outlived).append(" of them after their context ended");
        }
        out.append(", from ").append(plural(groups.size(), "creation site")).append('\n');
        int n = 0;
        for (Group g : groups) {
            out.append('\n').append('[').append(++n).append("] ").append(plural(g.count(), "task")).append(' ')
                    .append(g.creationSite() != null ? "made at " + g.creationSite() : g.key() + " (not sampled)")
                    .append('\n');
            TaskInfo first = g.tasks().get(0);
            appendTask(out, first);
            if (g.count() > 1) {
                out.append("    and ").append(plural(g.count() - 1, "more task")).append(" like it:\n");
                for (int i = 1; i < g.count(); i++) {
                    if (i > BRIEF_LINES) {
                        out.append("      ... ").append(g.count() - 1 - BRIEF_LINES).append(" more\n");
                        break;
                    }
                    out.append("      ").append(taskLine(g.tasks().get(i))).append('\n');
                }
            }
        }
        return out.toString();
    }

    private void appendTask(StringBuilder out, TaskInfo t) {
        out.append("    ").append(taskLine(t)).append('\n');
        out.append("    lineage, root first:\n");
        for (ContextInfo c : t.lineage()) {
            out.append("      ").append(c.headline());
            if (c.deadline() != null) {
                out.append(", deadline ").append(Json.iso(c.deadline()));
            }
            out.append('\n');
            ContextEnd end = c.endedBy();
            if (end != null) {
                out.append("        ").append(endLine(end)).append('\n');
            } else if (!c.done()) {
                out.append("        live\n");
            }
        }
        out.append("    stack:\n");
        for (String frame : t.stack()) {
            out.append("      at ").append(frame).append('\n');
        }
        if (t.creationStack().isEmpty()) {
            out.append("    made at: not sampled (level FULL, or a smaller sample interval, records every task)\n");
        } else {
            out.append("    made at:\n");
            List<String> frames = t.creationStack();
            for (int i = 0; i < Math.min(frames.size(), TEXT_CREATION_FRAMES); i++) {
                out.append("      at ").append(frames.get(i)).append('\n');
            }
            if (frames.size() > TEXT_CREATION_FRAMES) {
                out.append("      ... ").append(frames.size() - TEXT_CREATION_FRAMES).append(" more (in the JSON)\n");
            }
        }
    }

    private static String taskLine(TaskInfo t) {
        StringBuilder out = new StringBuilder(160);
        out.append("task ").append(t.id()).append(" on ").append(t.virtual() ? "virtual" : "platform")
                .append(" thread \"").append(t.thread()).append("\": ").append(t.classification()).append(" (")
                .append(t.threadState()).append(t.interrupted() ? ", interrupted" : ", not interrupted")
                .append("), running ").append(t.runningMillis()).append(" ms");
        if (t.outlivedMillis() != null) {
            out.append(", ").append(t.outlivedMillis()).append(" ms after its context ended");
        } else {
            out.append(", its context still live");
        }
        return out.toString();
    }

    private String endLine(ContextEnd end) {
        StringBuilder out = new StringBuilder(160);
        out.append(end.type() == ContextEnd.Type.DEADLINE_EXCEEDED ? "deadline exceeded" : "cancelled");
        if (end.byAncestor()) {
            out.append(" by an ancestor's end");
        }
        if (end.thread() != null) {
            out.append(end.type() == ContextEnd.Type.DEADLINE_EXCEEDED ? ", noticed on thread \"" : ", on thread \"")
                    .append(end.thread()).append('"');
        }
        if (end.at() != null) {
            out.append(' ').append(Math.max(0, Duration.between(end.at(), takenAt).toMillis())).append(" ms ago");
        }
        if (end.site() != null) {
            out.append(", at ").append(end.site());
        }
        if (end.cause() != null) {
            out.append(", cause: ").append(end.cause());
        }
        return out.toString();
    }

    private static String plural(int n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }

    /**
     * The report as JSON: {@code {"version":1,"takenAt":…,"taskCount":n,"groups":[{"key":…,"creationSite":…,
     * "count":n,"tasks":[…]}]}}, each task with the fields of {@link TaskInfo} and its lineage as context objects
     * of the live context map's format.
     */
    public String toJson() {
        Json json = new Json().beginObject()
                .member("version", 1)
                .member("takenAt", takenAt)
                .member("taskCount", tasks.size())
                .name("groups").beginArray();
        for (Group g : groups) {
            json.beginObject()
                    .member("key", g.key())
                    .member("creationSite", g.creationSite())
                    .member("count", g.count())
                    .name("tasks").beginArray();
            for (TaskInfo t : g.tasks()) {
                t.writeReportEntry(json);
            }
            json.endArray().endObject();
        }
        return json.endArray().endObject().toString();
    }

    @Override
    public String toString() {
        return toText();
    }
}
