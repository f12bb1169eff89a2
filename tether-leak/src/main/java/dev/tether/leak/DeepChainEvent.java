package dev.tether.leak;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import org.jspecify.annotations.Nullable;

/**
 * {@code dev.tether.DeepChain}: a cancellable context was created deeper than the detector's threshold, usually a
 * loop or a retry that derives each context from the previous one instead of from the request's. Recorded on the
 * creating thread, whose stack is the place to look.
 */
@Name("dev.tether.DeepChain")
@Label("Deep Context Chain")
@Category({"Tether", "Leaks"})
@Description("A cancellable context was created deeper than the configured threshold")
@StackTrace(true)
final class DeepChainEvent extends jdk.jfr.Event {

    @Label("Context")
    @Description("Identity of the context created")
    String contextId;

    @Label("Depth")
    @Description("Cancellable contexts on the path from the root, this one included")
    int depth;

    @Label("Creation Site")
    @Description("Where the context was created, when that was sampled")
    @Nullable String creationSite;
}
