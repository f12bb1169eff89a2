package dev.tether;

import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * The values a context carries, as immutable arrays indexed by {@link Key#id}. Key ids are small, unique and
 * dense (one per {@code Key.of} call, and keys live in static fields), so a lookup is one or two array reads
 * whatever the depth of the context chain, with no hashing and no collisions. The first 32 keys' values sit in
 * one array, the next ones in chunks of {@value #CHUNK}; adding a value copies one array of at most that many
 * slots (plus the short chunk index past the first 32 keys), never the whole chain. Ids past the first 1024 keys
 * go to a bitmap trie instead.
 */
final class ValueMap {

    private static final Object[] NONE = new Object[0];
    private static final Object[][] NO_CHUNKS = new Object[0][];

    static final ValueMap EMPTY = new ValueMap(NONE, NO_CHUNKS, Trie.EMPTY);

    private static final int BITS = 5;
    /** Slots per chunk. */
    private static final int CHUNK = 1 << BITS;
    private static final int MASK = CHUNK - 1;
    /**
     * Ids from here on go to {@link #overflow}: a program that makes keys per request (a bug the analyzer flags)
     * then pays a trie lookup, instead of copying arrays as long as its ever-growing key ids.
     */
    private static final int ARRAY_LIMIT = CHUNK * CHUNK;

    /** Values of the first {@value #CHUNK} keys by id, most programs' only ones: adding one copies just this. */
    private final @Nullable Object[] first;
    /** chunks[id >>> BITS][id & MASK] for the ids after those, below {@link #ARRAY_LIMIT}; chunk 0 unused. */
    private final @Nullable Object[][] chunks;
    private final Trie overflow;

    private ValueMap(@Nullable Object[] first, @Nullable Object[][] chunks, Trie overflow) {
        this.first = first;
        this.chunks = chunks;
        this.overflow = overflow;
    }

    @Nullable Object get(Key<?> key) {
        int id = key.id;
        if (id < CHUNK && id >= 0) {
            @Nullable Object[] f = first;
            return id < f.length ? f[id] : null;
        }
        if (id >= ARRAY_LIMIT || id < 0) {
            return overflow.get(key);
        }
        @Nullable Object[][] c = chunks;
        int high = id >>> BITS;
        if (high >= c.length) {
            return null;
        }
        Object[] chunk = c[high];
        int low = id & MASK;
        return chunk == null || low >= chunk.length ? null : chunk[low];
    }

    ValueMap with(Key<?> key, Object value) {
        int id = key.id;
        if (id < CHUNK && id >= 0) {
            @Nullable Object[] f = Arrays.copyOf(first, Math.max(first.length, id + 1));
            f[id] = value;
            return new ValueMap(f, chunks, overflow);
        }
        if (id >= ARRAY_LIMIT || id < 0) {
            return new ValueMap(first, chunks, overflow.with(key, value));
        }
        int high = id >>> BITS;
        int low = id & MASK;
        @Nullable Object[][] c = Arrays.copyOf(chunks, Math.max(chunks.length, high + 1));
        Object[] old = c[high];
        Object[] chunk = old == null ? new Object[low + 1] : Arrays.copyOf(old, Math.max(old.length, low + 1));
        chunk[low] = value;
        c[high] = chunk;
        return new ValueMap(first, c, overflow);
    }

    /** An immutable bitmap trie keyed by {@link Key#id}, for ids past {@link #ARRAY_LIMIT}; ids never collide. */
    private static final class Trie {
        static final Trie EMPTY = new Trie(0, new Object[0]);

        private static final int BITS = 5;
        private static final int MASK = (1 << BITS) - 1;

        /** Bit i is set when slot i is in use. */
        private final int bitmap;
        /** Pairs per used slot, in slot order: (Key, value), or (null, sub-trie for the next five bits). */
        private final Object[] slots;

        private Trie(int bitmap, Object[] slots) {
            this.bitmap = bitmap;
            this.slots = slots;
        }

        @Nullable Object get(Key<?> key) {
            Trie node = this;
            int id = key.id;
            while (true) {
                int bit = 1 << (id & MASK);
                if ((node.bitmap & bit) == 0) {
                    return null;
                }
                int index = 2 * Integer.bitCount(node.bitmap & (bit - 1));
                Object k = node.slots[index];
                if (k == key) {
                    return node.slots[index + 1];
                }
                if (k != null) {
                    return null;
                }
                node = (Trie) node.slots[index + 1];
                id >>>= BITS;
            }
        }

        Trie with(Key<?> key, Object value) {
            return with(key, value, 0);
        }

        private Trie with(Key<?> key, Object value, int shift) {
            int bit = 1 << ((key.id >>> shift) & MASK);
            int index = 2 * Integer.bitCount(bitmap & (bit - 1));
            if ((bitmap & bit) == 0) {
                Object[] copy = new Object[slots.length + 2];
                System.arraycopy(slots, 0, copy, 0, index);
                copy[index] = key;
                copy[index + 1] = value;
                System.arraycopy(slots, index, copy, index + 2, slots.length - index);
                return new Trie(bitmap | bit, copy);
            }
            Object k = slots[index];
            Object[] copy = Arrays.copyOf(slots, slots.length);
            if (k == key) {
                copy[index + 1] = value;
            } else if (k == null) {
                copy[index + 1] = ((Trie) slots[index + 1]).with(key, value, shift + BITS);
            } else {
                copy[index] = null;
                copy[index + 1] = pair((Key<?>) k, slots[index + 1], key, value, shift + BITS);
            }
            return new Trie(bitmap, copy);
        }

        /** A node holding two keys that shared every slot above {@code shift}; distinct ids split by bit 31. */
        private static Trie pair(Key<?> a, Object valueA, Key<?> b, Object valueB, int shift) {
            int slotA = (a.id >>> shift) & MASK;
            int slotB = (b.id >>> shift) & MASK;
            if (slotA == slotB) {
                return new Trie(1 << slotA, new Object[] {null, pair(a, valueA, b, valueB, shift + BITS)});
            }
            int bitmap = (1 << slotA) | (1 << slotB);
            return slotA < slotB
                    ? new Trie(bitmap, new Object[] {a, valueA, b, valueB})
                    : new Trie(bitmap, new Object[] {b, valueB, a, valueA});
        }
    }
}
