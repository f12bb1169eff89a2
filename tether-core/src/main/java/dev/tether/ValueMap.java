package dev.tether;

import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * The values a context carries: an immutable bitmap trie keyed by {@link Key#id}. Key ids are small, unique and
 * dense, so a program's first 32 keys share one flat node (a lookup is a bit test and an array read), and no two
 * keys ever collide. Adding a value copies only the nodes on one key's path, never the whole chain.
 */
final class ValueMap {

    static final ValueMap EMPTY = new ValueMap(0, new Object[0]);

    private static final int BITS = 5;
    private static final int MASK = (1 << BITS) - 1;

    /** Bit i is set when slot i is in use. */
    private final int bitmap;
    /** Pairs per used slot, in slot order: (Key, value), or (null, sub-trie for the next five bits). */
    private final Object[] slots;

    private ValueMap(int bitmap, Object[] slots) {
        this.bitmap = bitmap;
        this.slots = slots;
    }

    @Nullable Object get(Key<?> key) {
        ValueMap node = this;
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
            node = (ValueMap) node.slots[index + 1];
            id >>>= BITS;
        }
    }

    ValueMap with(Key<?> key, Object value) {
        return with(key, value, 0);
    }

    private ValueMap with(Key<?> key, Object value, int shift) {
        int bit = 1 << ((key.id >>> shift) & MASK);
        int index = 2 * Integer.bitCount(bitmap & (bit - 1));
        if ((bitmap & bit) == 0) {
            Object[] copy = new Object[slots.length + 2];
            System.arraycopy(slots, 0, copy, 0, index);
            copy[index] = key;
            copy[index + 1] = value;
            System.arraycopy(slots, index, copy, index + 2, slots.length - index);
            return new ValueMap(bitmap | bit, copy);
        }
        Object k = slots[index];
        Object[] copy = Arrays.copyOf(slots, slots.length);
        if (k == key) {
            copy[index + 1] = value;
        } else if (k == null) {
            copy[index + 1] = ((ValueMap) slots[index + 1]).with(key, value, shift + BITS);
        } else {
            copy[index] = null;
            copy[index + 1] = pair((Key<?>) k, slots[index + 1], key, value, shift + BITS);
        }
        return new ValueMap(bitmap, copy);
    }

    /** A node holding two keys that shared every slot above {@code shift}; distinct ids split by bit 31. */
    private static ValueMap pair(Key<?> a, Object valueA, Key<?> b, Object valueB, int shift) {
        int slotA = (a.id >>> shift) & MASK;
        int slotB = (b.id >>> shift) & MASK;
        if (slotA == slotB) {
            return new ValueMap(1 << slotA, new Object[] {null, pair(a, valueA, b, valueB, shift + BITS)});
        }
        int bitmap = (1 << slotA) | (1 << slotB);
        return slotA < slotB
                ? new ValueMap(bitmap, new Object[] {a, valueA, b, valueB})
                : new ValueMap(bitmap, new Object[] {b, valueB, a, valueA});
    }
}
