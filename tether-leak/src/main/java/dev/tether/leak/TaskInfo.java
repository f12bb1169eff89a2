package dev.tether.leak;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A task started through Tether that was still running when a report or map was made.
 *
 * @param id the tracker's id for it ({@code t5}), stable within the process
 * @param contextId the id of its owner: the nearest cancellable context at or above the context it runs in
 * @param thread the name of the thread running it ({@code #id} for an unnamed one)
 * @param virtual whether that thread is virtual
 * @param threadState the thread's state when looked at
 * @param interrupted whether the thread's interrupt flag was set when looked at
 * @param startedAt when the task started
 * @param runningMillis how long it has run
 * @param leaked whether its context has ended and the grace period has passed since (since the task started,
 *     for a task that started after its context ended)
 * @param outlivedMillis how long it has run since its context ended; null while the context is live
 * @param classification why it still runs
 * @param creationStack where it was submitted (the submitting thread's stack, trimmed of Tether's and the JDK's
 *     frames), for a sampled task; empty for the others
 * @param stack its thread's current stack, trimmed of Tether's frames and of the thread's JDK bottom
 * @param lineage its owner's cancellable ancestors and the owner itself, root first
 */
public record TaskInfo(
        String id, String contextId, String thread, boolean virtual, Thread.State threadState, boolean interrupted,
        Instant startedAt, long runningMillis, boolean leaked, @Nullable Long outlivedMillis,
        Classification classification, List<String> creationStack, List<String> stack, List<ContextInfo> lineage) {

    /** Validates and copies the components. */
    public TaskInfo {
        Objects.requireNonNull(id, "id must not be null");
        Objects.requireNonNull(contextId, "contextId must not be null");
        Objects.requireNonNull(thread, "thread must not be null");
        Objects.requireNonNull(threadState, "threadState must not be null");
        Objects.requireNonNull(startedAt, "startedAt must not be null");
        Objects.requireNonNull(classification, "classification must not be null");
        creationStack = List.copyOf(creationStack);
        stack = List.copyOf(stack);
        lineage = List.copyOf(lineage);
    }

    /** The first frame of the code that submitted the task, or null if the task was not sampled. */
    public @Nullable String creationSite() {
        return creationStack.isEmpty() ? null : creationStack.get(0);
    }

    /** The owner context, the last of the lineage (null only if the lineage is empty). */
    public @Nullable ContextInfo owner() {
        return lineage.isEmpty() ? null : lineage.get(lineage.size() - 1);
    }

    /** The map's task object (leak-contract.md): no lineage, which the map has as its contexts. */
    void writeMapEntry(Json json) {
        json.beginObject()
                .member("id", id)
                .member("context", contextId)
                .member("thread", thread)
                .member("virtual", virtual)
                .member("threadState", threadState.name())
                .member("startedAt", startedAt)
                .member("runningMillis", runningMillis)
                .member("leaked", leaked)
                .member("outlivedMillis", outlivedMillis)
                .member("classification", classification.name())
                .name("creationStack").strings(creationStack.isEmpty() ? null : creationStack)
                .name("stack").strings(stack)
                .endObject();
    }

    /** A report's task object: the map's, with the interrupt flag and the lineage. */
    void writeReportEntry(Json json) {
        json.beginObject()
                .member("id", id)
                .member("context", contextId)
                .member("thread", thread)
                .member("virtual", virtual)
                .member("threadState", threadState.name())
                .member("interrupted", interrupted)
                .member("startedAt", startedAt)
                .member("runningMillis", runningMillis)
                .member("leaked", leaked)
                .member("outlivedMillis", outlivedMillis)
                .member("classification", classification.name())
                .member("creationSite", creationSite())
                .name("creationStack").strings(creationStack.isEmpty() ? null : creationStack)
                .name("stack").strings(stack)
                .name("lineage").beginArray();
        for (ContextInfo c : lineage) {
            c.writeTo(json);
        }
        json.endArray().endObject();
    }
}
