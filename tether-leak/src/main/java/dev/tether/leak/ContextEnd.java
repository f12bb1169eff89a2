package dev.tether.leak;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * How a context ended, as the tracker saw it: cancelled or past its deadline, with what cause, whether an
 * ancestor's end reached it, and who ended it (the thread, and where it was when it ended the context).
 *
 * @param type how it ended
 * @param cause the cause given to {@code cancel(cause)} as {@code toString()} (at most 300 characters); null for
 *     a cancel without cause and for a deadline
 * @param byAncestor whether it ended because an ancestor ended; {@code thread}, {@code at} and {@code site}
 *     then tell about the ancestor's end as far as the tracker saw it
 * @param thread the thread that ended it (for a deadline, the thread that noticed it had passed), if seen
 * @param at when it ended, if seen
 * @param site the first frame of the ending thread's own code (its {@code cancel()} call), when it was
 *     captured: for sampled contexts and for contexts that ended while tasks still ran
 */
public record ContextEnd(
        Type type, @Nullable String cause, boolean byAncestor, @Nullable String thread, @Nullable Instant at,
        @Nullable String site) {

    /** Longest cause text kept. */
    static final int MAX_CAUSE = 300;

    /** How a context ended. */
    public enum Type {
        /** {@code cancel()}, {@code cancel(cause)} or {@code close()}, on it or on an ancestor. */
        CANCELLED("cancelled"),
        /** Its deadline, or an ancestor's, passed. */
        DEADLINE_EXCEEDED("deadline_exceeded");

        private final String jsonName;

        Type(String jsonName) {
            this.jsonName = jsonName;
        }

        /** The name in JSON: {@code cancelled} or {@code deadline_exceeded}. */
        public String jsonName() {
            return jsonName;
        }
    }

    /** Validates the components. */
    public ContextEnd {
        java.util.Objects.requireNonNull(type, "type must not be null");
    }

    static @Nullable String bounded(@Nullable Object cause) {
        if (cause == null) {
            return null;
        }
        String s = String.valueOf(cause);
        return s.length() <= MAX_CAUSE ? s : s.substring(0, MAX_CAUSE - 1) + "…";
    }

    void writeTo(Json json) {
        json.beginObject()
                .member("type", type.jsonName)
                .member("cause", cause)
                .member("byAncestor", byAncestor)
                .member("thread", thread)
                .member("at", at)
                .member("site", site)
                .endObject();
    }
}
