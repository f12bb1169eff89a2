package dev.tether.otel;

import dev.tether.wire.DeadlineOrigin;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Turns deadline origins into metric attribute values with bounded cardinality: an origin is reduced to the
 * detail configured, the first {@code max} distinct values are kept as they are, and every later one becomes
 * {@link #OTHER}. An origin is already a short string of token characters ({@link DeadlineOrigin} rejects
 * anything else), so no value can carry markup or grow long; the cap bounds how many there are, whatever callers
 * send in their headers.
 */
final class OriginLabels {

    /** The value for origins past the cap. */
    static final String OTHER = "_other";
    /** The value when nobody named the deadline's origin. */
    static final String UNKNOWN = "_unknown";

    private final TetherMetrics.OriginDetail detail;
    private final int max;
    // Added to under the lock (rare: once per distinct value), read without it.
    private final Set<String> admitted = ConcurrentHashMap.newKeySet();

    OriginLabels(TetherMetrics.OriginDetail detail, int max) {
        this.detail = detail;
        this.max = max;
    }

    /** The attribute value for {@code origin}; null when origins are not recorded at all. */
    @Nullable String label(@Nullable DeadlineOrigin origin) {
        if (detail == TetherMetrics.OriginDetail.NONE) {
            return null;
        }
        if (origin == null) {
            return UNKNOWN;
        }
        String value = detail == TetherMetrics.OriginDetail.SERVICE ? origin.service() : origin.headerValue();
        if (admitted.contains(value)) {
            return value;
        }
        synchronized (admitted) {
            if (admitted.contains(value)) {
                return value;
            }
            if (admitted.size() >= max) {
                return OTHER;
            }
            admitted.add(value);
            return value;
        }
    }
}
