package dev.tether.leak;

import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A cancellable context as the tracker knows it, at the moment a report or map was made.
 *
 * @param id the tracker's id for it ({@code c12}), stable within the process
 * @param parentId the id of its nearest cancellable ancestor, or null under a root (or if the ancestor was made
 *     before the detector was installed)
 * @param kind {@code WithCancel}, {@code WithTimeout} or {@code WithDeadline}. Known exactly for sampled
 *     contexts; for the others a context that set its own deadline is reported as {@code WithDeadline}, as
 *     {@code toString()} prints it
 * @param label what {@link LeakDetector#label} named it, if anything
 * @param site its creation site (the first frame of the creating code); null for a context that was not sampled
 * @param createdAt when it was made (when first seen, for one made before the detector was installed)
 * @param deadline its deadline, if it has one
 * @param remainingMillis the time to its deadline by its own time source, negative once passed; null without one
 * @param done whether it has ended
 * @param endedBy how it ended; null while live
 */
public record ContextInfo(
        String id, @Nullable String parentId, String kind, @Nullable String label, @Nullable String site,
        Instant createdAt,
        @Nullable Instant deadline, @Nullable Long remainingMillis, boolean done, @Nullable ContextEnd endedBy) {

    /** Validates the components. */
    public ContextInfo {
        Objects.requireNonNull(id, "id must not be null");
        Objects.requireNonNull(kind, "kind must not be null");
        Objects.requireNonNull(createdAt, "createdAt must not be null");
    }

    /** One line: {@code c12 WithTimeout made at com.shop.Checkout.handle(Checkout.java:42)}. */
    String headline() {
        StringBuilder out = new StringBuilder(id).append(' ').append(kind);
        if (label != null) {
            out.append(" \"").append(label).append('"');
        }
        if (site != null) {
            out.append(" made at ").append(site);
        }
        return out.toString();
    }

    void writeTo(Json json) {
        json.beginObject()
                .member("id", id)
                .member("parent", parentId)
                .member("kind", kind)
                .member("site", label != null ? label : site) // the map shows one name: the label wins
                .member("createdAt", createdAt)
                .member("deadline", deadline)
                .member("remainingMillis", remainingMillis)
                .member("done", done)
                .name("endedBy");
        if (endedBy == null) {
            json.nullValue();
        } else {
            endedBy.writeTo(json);
        }
        json.endObject();
    }
}
