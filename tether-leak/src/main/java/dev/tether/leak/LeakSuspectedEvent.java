package dev.tether.leak;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;
import org.jspecify.annotations.Nullable;

/**
 * {@code dev.tether.LeakSuspected}: a task still ran after its context ended and the grace period passed. Recorded
 * by the leak detector's check, whose own stack says nothing about the leak, so none is taken; the leaked task's
 * creation site and classification are fields.
 */
@Name("dev.tether.LeakSuspected")
@Label("Leak Suspected")
@Category({"Tether", "Leaks"})
@Description("A task bound to a context still runs after the context ended and the grace period passed")
@StackTrace(false)
final class LeakSuspectedEvent extends jdk.jfr.Event {

    @Label("Context")
    @Description("Identity of the context the task was bound to")
    String contextId;

    @Label("Context Path")
    @Description("The context's lineage, root to leaf")
    String lineage;

    @Label("Task Thread")
    @Description("Name of the thread the leaked task runs on")
    String threadName;

    @Label("Virtual Thread")
    boolean virtualThread;

    @Label("Outlived")
    @Description("How long the task has run since its context ended")
    @Timespan(Timespan.MILLISECONDS)
    long outlived;

    @Label("Classification")
    @Description("IGNORING_CANCELLATION, BLOCKED_UNINTERRUPTIBLE, BLOCKED_MONITOR, PARKED or RUNNING")
    String classification;

    @Label("Creation Site")
    @Description("Where the task was started, when its creation stack was sampled")
    @Nullable String creationSite;
}
