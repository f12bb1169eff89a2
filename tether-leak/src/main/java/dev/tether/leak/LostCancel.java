package dev.tether.leak;

import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A cancellable context that was garbage-collected without {@code cancel()} or {@code close()} ever being called
 * on it: Go's lost cancel, caught at run time. It held a link in its parent (and perhaps a timer) until the
 * collector found it. Reported for sampled contexts (every context at level FULL).
 *
 * @param contextId the tracker's id for it
 * @param kind {@code WithCancel}, {@code WithTimeout} or {@code WithDeadline}
 * @param site where it was made: the first frame of the creating code
 * @param createdAt when it was made
 * @param ageMillis how old it was when its loss was noticed
 */
public record LostCancel(String contextId, String kind, @Nullable String site, Instant createdAt, long ageMillis) {

    /** Validates the components. */
    public LostCancel {
        Objects.requireNonNull(contextId, "contextId must not be null");
        Objects.requireNonNull(kind, "kind must not be null");
        Objects.requireNonNull(createdAt, "createdAt must not be null");
    }

    /** One line for a log. */
    public String toText() {
        return "lost cancel: " + kind + " context " + contextId + " made at " + (site == null ? "(unknown site)" : site)
                + " was garbage-collected " + ageMillis + " ms after it was made without cancel() or close()"
                + " ever being called on it";
    }

    void writeTo(Json json) {
        json.beginObject()
                .member("kind", kind)
                .member("site", site)
                .member("ageMillis", ageMillis)
                .endObject();
    }
}
