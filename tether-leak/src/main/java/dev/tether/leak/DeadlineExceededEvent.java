package dev.tether.leak;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;
import jdk.jfr.Timestamp;

/**
 * {@code dev.tether.DeadlineExceeded}: a context's own deadline passed and ended it (and whatever hung below it).
 * Recorded on the thread that saw it pass, which is the timer's or whichever thread looked first; that thread's
 * stack says little, so none is taken.
 */
@Name("dev.tether.DeadlineExceeded")
@Label("Deadline Exceeded")
@Category({"Tether", "Context"})
@Description("A context's deadline passed: the work it bounded ran out of time")
@StackTrace(false)
final class DeadlineExceededEvent extends jdk.jfr.Event {

    @Label("Context")
    @Description("Identity of the context, as in the other Tether events")
    String contextId;

    @Label("Context Path")
    @Description("The context's lineage from its root, as Context.toString() prints it")
    String lineage;

    @Label("Deadline")
    @Description("When the deadline passed, by the context's time source")
    @Timestamp(Timestamp.MILLISECONDS_SINCE_EPOCH)
    long deadline;

    @Label("Budget")
    @Description("Time from the context's creation to its deadline; N/A if it was created while the event was off")
    @Timespan(Timespan.NANOSECONDS)
    long budget;

    @Label("Noticed After")
    @Description("How long after the deadline the end took effect: timer delay, or no one looking until then")
    @Timespan(Timespan.NANOSECONDS)
    long lateness;

    @Label("Depth")
    @Description("Cancellable contexts on the path from the root, this one included; N/A if it was created while the event was off")
    int depth;

    @Label("Descendants Ended")
    @Description("Contexts below this one that its end reached")
    int descendants;
}
