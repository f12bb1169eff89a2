package dev.tether.grpc;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/** Checking and printing the durations the interceptors are configured with and report. */
final class Durations {

    private Durations() {
    }

    /** Nanoseconds of a duration, saturating instead of overflowing (a Duration spans far more than a long). */
    static long nanos(Duration d) {
        if (d.getSeconds() >= Long.MAX_VALUE / 1_000_000_000L) {
            return Long.MAX_VALUE;
        }
        if (d.getSeconds() <= Long.MIN_VALUE / 1_000_000_000L) {
            return Long.MIN_VALUE;
        }
        return d.toNanos();
    }

    /** The argument's nanoseconds, after checking it is neither null nor negative. */
    static long nonNegative(Duration d, String name) {
        Objects.requireNonNull(d, name);
        if (d.isNegative()) {
            throw new IllegalArgumentException(name + ": " + d + " (expected: >= 0)");
        }
        return nanos(d);
    }

    /** The argument's nanoseconds, after checking it is neither null nor zero or negative. */
    static long positive(Duration d, String name) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + ": " + d + " (expected: > 0)");
        }
        return nanos(d);
    }

    /** a - b, clamped to the range of long. */
    static long minus(long a, long b) {
        long r = a - b;
        // Overflow iff the operands have different signs and the result's sign differs from a's.
        if (((a ^ b) & (a ^ r)) < 0) {
            return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        return r;
    }

    /** Milliseconds for people: {@code 250ms}, {@code 0.125ms}, {@code 12.5s} for ten seconds and more. */
    static String format(long nanos) {
        if (nanos >= 10_000_000_000L || nanos <= -10_000_000_000L) {
            return trim(String.format(Locale.ROOT, "%.3f", nanos / 1e9)) + "s";
        }
        return trim(String.format(Locale.ROOT, "%.3f", nanos / 1e6)) + "ms";
    }

    private static String trim(String decimal) {
        int end = decimal.length();
        while (decimal.charAt(end - 1) == '0') {
            end--;
        }
        if (decimal.charAt(end - 1) == '.') {
            end--;
        }
        return decimal.substring(0, end);
    }
}
