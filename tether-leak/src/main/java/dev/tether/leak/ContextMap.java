package dev.tether.leak;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The live context map: every live cancellable context a detector knows, every task still running in one, the
 * ended contexts those tasks belong to (their leaked tasks marked), the ancestors of all of them, and the recent
 * lost cancels, at one moment. {@link #toJson()} is the snapshot format that the HTML page renders.
 *
 * {@snippet :
 * String json = ContextMap.capture(detector).toJson();
 * }
 *
 * <p>Every context's {@code parent} names a context in the map or is null, and every task's {@code context} names
 * a context in the map. Capturing looks at each context (which ends those whose deadline has passed, as any
 * {@code isDone()} does) and takes the stack of each running task's thread: its cost grows with the number of
 * live contexts and tasks.
 */
public final class ContextMap {

    private final Instant takenAt;
    private final LeakDetector.Level level;
    private final List<ContextInfo> contexts;
    private final List<TaskInfo> tasks;
    private final List<LostCancel> lostCancels;

    private ContextMap(Instant takenAt, LeakDetector.Level level, List<ContextInfo> contexts, List<TaskInfo> tasks,
            List<LostCancel> lostCancels) {
        this.takenAt = takenAt;
        this.level = level;
        this.contexts = List.copyOf(contexts);
        this.tasks = List.copyOf(tasks);
        this.lostCancels = List.copyOf(lostCancels);
    }

    /** The map as {@code detector} knows it now; empty for a detector at level OFF or closed. */
    public static ContextMap capture(LeakDetector detector) {
        Objects.requireNonNull(detector, "detector must not be null");
        Tracker tracker = detector.tracker();
        if (tracker == null) {
            return new ContextMap(detector.now(), detector.level(), List.of(), List.of(), List.of());
        }
        Tracker.Snapshot s = tracker.snapshot();
        return new ContextMap(s.takenAt(), detector.level(), s.contexts(), s.tasks(), s.lost());
    }

    /** The map of the {@linkplain LeakDetector#installed() installed} detector; empty, at level OFF, if none is. */
    public static ContextMap capture() {
        @Nullable LeakDetector detector = LeakDetector.installed();
        if (detector == null) {
            return new ContextMap(Instant.now(), LeakDetector.Level.OFF, List.of(), List.of(), List.of());
        }
        return capture(detector);
    }

    /** When the map was captured. */
    public Instant takenAt() {
        return takenAt;
    }

    /** The detector's level. */
    public LeakDetector.Level level() {
        return level;
    }

    /** The contexts, oldest first (so every parent comes before its children). */
    public List<ContextInfo> contexts() {
        return contexts;
    }

    /** The running tasks, the longest-running first. */
    public List<TaskInfo> tasks() {
        return tasks;
    }

    /** The most recent lost cancels (up to 64), oldest first. */
    public List<LostCancel> lostCancels() {
        return lostCancels;
    }

    /** The snapshot JSON (version 1), as leak-contract.md and the map page define it. */
    public String toJson() {
        Json json = new Json().beginObject()
                .member("version", 1)
                .member("takenAt", takenAt)
                .member("level", level.name())
                .name("contexts").beginArray();
        for (ContextInfo c : contexts) {
            c.writeTo(json);
        }
        json.endArray().name("tasks").beginArray();
        for (TaskInfo t : tasks) {
            t.writeMapEntry(json);
        }
        json.endArray().name("lostCancels").beginArray();
        for (LostCancel l : lostCancels) {
            l.writeTo(json);
        }
        return json.endArray().endObject().toString();
    }

    @Override
    public String toString() {
        return "ContextMap[" + Json.iso(takenAt) + ", " + level + ", " + contexts.size() + " contexts, "
                + tasks.size() + " tasks, " + lostCancels.size() + " lost cancels]";
    }
}
