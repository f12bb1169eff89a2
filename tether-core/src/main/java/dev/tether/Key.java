package dev.tether;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The key of a value carried by a context. Keys are compared by identity: two keys with the same name are
 * different keys, so code can only read the values whose key it can see. Hold each key in a
 * {@code static final} field.
 *
 * @param <T> the type of the value
 */
public final class Key<T> {

    private static final AtomicInteger IDS = new AtomicInteger();

    private final String name;
    /** Unique per key; spreads keys over the value trie without collisions. */
    final int id;

    private Key(String name) {
        this.name = name;
        this.id = IDS.getAndIncrement();
    }

    /**
     * Creates a key, distinct from every other key.
     *
     * @param name what diagnostics call the key, such as {@code "requestId"}
     * @throws NullPointerException if name is null
     */
    public static <T> Key<T> of(String name) {
        return new Key<>(Objects.requireNonNull(name, "name must not be null"));
    }

    /** The name given to {@link #of(String)}. */
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return name;
    }
}
