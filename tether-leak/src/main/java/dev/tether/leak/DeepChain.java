package dev.tether.leak;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A cancellable context made deeper than the configured threshold
 * ({@link LeakDetector.Options#withMaxChainDepth}): its chain of cancellable ancestors is longer than any request
 * should need, typically a context derived in a loop or a recursion from the previous one instead of from the
 * request's. Reported once per chain, for the first context past the threshold.
 *
 * @param contextId the tracker's id for it
 * @param depth how many cancellable contexts its chain has, itself included
 * @param site where it was made: the first frame of the creating code
 */
public record DeepChain(String contextId, int depth, @Nullable String site) {

    /** Validates the components. */
    public DeepChain {
        Objects.requireNonNull(contextId, "contextId must not be null");
    }

    /** One line for a log. */
    public String toText() {
        return "deep context chain: context " + contextId + " is " + depth + " cancellable contexts deep, made at "
                + (site == null ? "(unknown site)" : site);
    }
}
