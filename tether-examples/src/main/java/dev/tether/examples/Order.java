package dev.tether.examples;

import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What the chain demo's client asks for: one unit of {@code sku}, and how many seconds the database should spend on
 * it ({@code pg_sleep}) to play a slow query. Travels as query parameters over HTTP and as {@code "sku delay"} over
 * gRPC.
 */
record Order(String sku, int delaySeconds) {

    static final int MAX_DELAY_SECONDS = 60;
    private static final Pattern SKU = Pattern.compile("[a-z0-9-]{1,32}");

    Order {
        if (!SKU.matcher(sku).matches()) {
            throw new IllegalArgumentException("sku: '" + printable(sku) + "' (expected: 1 to 32 of a-z, 0-9, -)");
        }
        if (delaySeconds < 0 || delaySeconds > MAX_DELAY_SECONDS) {
            throw new IllegalArgumentException("delay: " + delaySeconds + " (expected: 0 to " + MAX_DELAY_SECONDS
                    + " seconds)");
        }
    }

    /**
     * Reads the query parameters {@code sku} (required) and {@code delay} (seconds, default 0).
     *
     * @throws IllegalArgumentException naming the parameter that is missing or wrong
     */
    static Order fromQuery(@Nullable String sku, @Nullable String delay) {
        if (sku == null) {
            throw new IllegalArgumentException("sku: missing (expected: ?sku=book)");
        }
        return new Order(sku, parseDelay(delay == null ? "0" : delay));
    }

    /** Reads {@link #wire()}. */
    static Order fromWire(String wire) {
        int space = wire.indexOf(' ');
        if (space < 0) {
            throw new IllegalArgumentException("order: '" + printable(wire) + "' (expected: \"<sku> <delay>\")");
        }
        return new Order(wire.substring(0, space), parseDelay(wire.substring(space + 1)));
    }

    /** The query string for the next HTTP hop. */
    String query() {
        return "sku=" + sku + "&delay=" + delaySeconds;
    }

    /** The gRPC request message. */
    String wire() {
        return sku + " " + delaySeconds;
    }

    private static int parseDelay(String delay) {
        if (delay.isEmpty() || delay.length() > 2 || !delay.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("delay: '" + printable(delay) + "' (expected: 0 to "
                    + MAX_DELAY_SECONDS + " seconds)");
        }
        return Integer.parseInt(delay);
    }

    /** Echoes at most 40 characters of client input, control and non-ASCII characters as '?'. */
    private static String printable(String s) {
        StringBuilder out = new StringBuilder(Math.min(s.length(), 40));
        for (int i = 0; i < s.length() && i < 40; i++) {
            char c = s.charAt(i);
            out.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return s.length() > 40 ? out + "..." : out.toString();
    }
}
