package dev.tether.leak;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;
import org.jspecify.annotations.Nullable;

/**
 * {@code dev.tether.LostCancel}: a cancellable context was garbage-collected without its {@code cancel()} or
 * {@code close()} ever being called, Go's lost-cancel bug found at run time. Recorded by whichever thread noticed
 * the collection, so no stack; the creation site is a field.
 */
@Name("dev.tether.LostCancel")
@Label("Lost Cancel")
@Category({"Tether", "Leaks"})
@Description("A cancellable context was garbage-collected without cancel() or close() being called")
@StackTrace(false)
final class LostCancelEvent extends jdk.jfr.Event {

    @Label("Context")
    @Description("Identity the context had")
    String contextId;

    @Label("Kind")
    @Description("WithCancel, WithTimeout or WithDeadline")
    String kind;

    @Label("Creation Site")
    @Description("Where the context was created, when that was sampled")
    @Nullable String creationSite;

    @Label("Age")
    @Description("How long the context had existed when its loss was noticed")
    @Timespan(Timespan.MILLISECONDS)
    long age;
}
