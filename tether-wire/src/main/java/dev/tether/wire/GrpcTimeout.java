package dev.tether.wire;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * gRPC's timeout syntax, which both {@code grpc-timeout} and {@code tether-budget} use: one to eight ASCII digits
 * and one unit, {@code H} hours, {@code M} minutes, {@code S} seconds, {@code m} milliseconds, {@code u}
 * microseconds or {@code n} nanoseconds. A relative budget needs no clock agreement between the two services.
 *
 * {@snippet :
 * GrpcTimeout.format(Duration.ofMillis(250));   // "250000u": 250000000n would need nine digits
 * GrpcTimeout.parse("250m");                     // PT0.25S
 * }
 *
 * <p>Nothing else is accepted: no sign, no spaces, no other digits than {@code 0-9}, no ninth digit, no other unit.
 * Values are checked by length before anything else, so a megabyte of input costs no more than ten characters.
 */
public final class GrpcTimeout {

    /** The largest budget the syntax can carry: 99,999,999 hours, about 11,400 years. */
    public static final Duration MAX = Duration.ofHours(99_999_999L);

    /** The most digits a value may have. */
    public static final int MAX_DIGITS = 8;

    private static final long LIMIT = 99_999_999L;

    private GrpcTimeout() {
    }

    /**
     * The budget in the finest unit whose value fits in eight digits, rounded down: never more time than the
     * caller has. Zero or negative gives {@code "0n"} (the budget is spent); more than {@link #MAX} gives
     * {@code "99999999H"}.
     *
     * @throws NullPointerException if budget is null
     */
    public static String format(Duration budget) {
        Objects.requireNonNull(budget, "budget");
        if (budget.isNegative() || budget.isZero()) {
            return "0n";
        }
        if (budget.compareTo(MAX) >= 0) {
            return LIMIT + "H";
        }
        long seconds = budget.getSeconds();
        // Below 100,000 s the budget fits in long nanos, and only there can n, u or m keep to eight digits.
        if (seconds < 100_000L) {
            long nanos = budget.toNanos();
            if (nanos <= LIMIT) {
                return nanos + "n";
            }
            if (nanos / 1_000L <= LIMIT) {
                return nanos / 1_000L + "u";
            }
            if (nanos / 1_000_000L <= LIMIT) {
                return nanos / 1_000_000L + "m";
            }
        }
        if (seconds <= LIMIT) {
            return seconds + "S";
        }
        if (seconds / 60L <= LIMIT) {
            return seconds / 60L + "M";
        }
        return seconds / 3_600L + "H";
    }

    /**
     * The budget a value stands for.
     *
     * @throws NullPointerException if value is null
     * @throws IllegalArgumentException naming the problem (empty, too long, not a digit, missing or unknown
     *     unit); the message shows hostile characters by code, never raw
     */
    public static Duration parse(CharSequence value) {
        Objects.requireNonNull(value, "value");
        String problem = problem(value);
        if (problem != null) {
            throw new IllegalArgumentException("grpc-timeout syntax: " + problem);
        }
        return decode(value);
    }

    /** What is wrong with {@code value}, or null if it is well formed. Never throws. */
    static @Nullable String problem(CharSequence value) {
        int length = value.length();
        if (length == 0) {
            return "empty value (expected: 1 to 8 digits and a unit H, M, S, m, u or n)";
        }
        if (length > MAX_DIGITS + 1) {
            return length + " characters (expected: at most 8 digits and a unit)";
        }
        for (int i = 0; i < length - 1; i++) {
            char c = value.charAt(i);
            if (!Ascii.isDigit(c)) {
                return "character " + Ascii.describe(c) + " at index " + i + " (expected: a digit 0-9)";
            }
        }
        char unit = value.charAt(length - 1);
        if (Ascii.isDigit(unit)) {
            return length == MAX_DIGITS + 1
                    ? "9 digits (expected: at most 8 digits and a unit)"
                    : "missing unit (expected: H, M, S, m, u or n after the digits)";
        }
        if (!isUnit(unit)) {
            return "unknown unit " + Ascii.describe(unit) + " (expected: H, M, S, m, u or n)";
        }
        if (length == 1) {
            return "no digits before the unit " + Ascii.describe(unit);
        }
        return null;
    }

    /** Decodes a value {@link #problem} found well formed. */
    static Duration decode(CharSequence value) {
        int last = value.length() - 1;
        long amount = 0;
        for (int i = 0; i < last; i++) {
            amount = amount * 10 + (value.charAt(i) - '0');
        }
        return switch (value.charAt(last)) {
            case 'H' -> Duration.ofHours(amount);
            case 'M' -> Duration.ofMinutes(amount);
            case 'S' -> Duration.ofSeconds(amount);
            case 'm' -> Duration.ofMillis(amount);
            case 'u' -> Duration.ofNanos(amount * 1_000L);
            case 'n' -> Duration.ofNanos(amount);
            default -> throw new AssertionError("unit checked by problem()");
        };
    }

    private static boolean isUnit(char unit) {
        return switch (unit) {
            case 'H', 'M', 'S', 'm', 'u', 'n' -> true;
            default -> false;
        };
    }
}
