package dev.tether.leak;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;
import org.jspecify.annotations.Nullable;

/**
 * {@code dev.tether.ContextCancelled}: a cancellable context ended by a cancel, recorded on the cancelling thread
 * with its stack, which says who cancelled. Off by default: busy services cancel contexts at request rate, so this
 * is for a recording that asks for it.
 */
@Name("dev.tether.ContextCancelled")
@Label("Context Cancelled")
@Category({"Tether", "Context"})
@Description("A cancellable context was cancelled; the stack trace is the cancelling thread's")
@Enabled(false)
@StackTrace(true)
final class ContextCancelledEvent extends jdk.jfr.Event {

    @Label("Context")
    @Description("Identity of the context, as in the other Tether events")
    String contextId;

    @Label("Context Path")
    @Description("The context's lineage from its root, as Context.toString() prints it")
    String lineage;

    @Label("Cause Type")
    @Description("Class of Context.cause(): the cause given to cancel(cause), else the ContextCancelledException")
    String causeType;

    @Label("Cause")
    @Description("Message of the cause, if any (bounded)")
    @Nullable String cause;

    @Label("By Ancestor")
    @Description("Whether an ancestor's end reached this context (it was created under an ended parent, or read its parent's end lazily)")
    boolean byAncestor;

    @Label("Depth")
    @Description("Cancellable contexts on the path from the root, this one included; N/A if it was created while the event was off")
    int depth;

    @Label("Age")
    @Description("Time from the context's creation to its end, by its time source; N/A if it was created while the event was off")
    @Timespan(Timespan.NANOSECONDS)
    long age;

    @Label("Descendants Ended")
    @Description("Contexts below this one that its end reached")
    int descendants;
}
