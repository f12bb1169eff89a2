package dev.tether.wire;

import java.time.Instant;
import java.util.Objects;

/**
 * The reserved {@value WireHeaders#DEADLINE_AT} value: an absolute deadline in whole milliseconds since the epoch,
 * for messages that wait in queues, where a relative budget would go stale while the message waits. Absolute
 * deadlines need the producer's and the consumer's clocks to agree; request/response transports send
 * {@value WireHeaders#BUDGET} instead, and no Tether server reads this header from a request.
 */
public final class DeadlineAt {

    /** The most digits a value may have: enough for any date before the year 33658. */
    public static final int MAX_DIGITS = 15;

    private DeadlineAt() {
    }

    /**
     * The deadline as milliseconds since the epoch, rounded down.
     *
     * @throws IllegalArgumentException if the deadline is before the epoch or needs more than 15 digits
     */
    public static String format(Instant deadline) {
        Objects.requireNonNull(deadline, "deadline");
        if (deadline.isBefore(Instant.EPOCH)) {
            throw new IllegalArgumentException("deadline: " + deadline + " (expected: not before 1970-01-01T00:00:00Z)");
        }
        long millis = deadline.getEpochSecond() > 999_999_999_999L ? Long.MAX_VALUE : deadline.toEpochMilli();
        if (millis > 999_999_999_999_999L) {
            throw new IllegalArgumentException("deadline: " + deadline + " (expected: at most 15 digits of millis)");
        }
        return Long.toString(millis);
    }

    /**
     * The deadline a value stands for.
     *
     * @throws IllegalArgumentException if the value is empty, longer than 15 characters (checked first), or not
     *     all ASCII digits
     */
    public static Instant parse(CharSequence value) {
        Objects.requireNonNull(value, "value");
        int length = value.length();
        if (length == 0 || length > MAX_DIGITS) {
            throw new IllegalArgumentException(WireHeaders.DEADLINE_AT + ": " + length
                    + " characters (expected: 1 to " + MAX_DIGITS + " digits)");
        }
        long millis = 0;
        for (int i = 0; i < length; i++) {
            char c = value.charAt(i);
            if (!Ascii.isDigit(c)) {
                throw new IllegalArgumentException(WireHeaders.DEADLINE_AT + ": character " + Ascii.describe(c)
                        + " at index " + i + " (expected: a digit 0-9)");
            }
            millis = millis * 10 + (c - '0');
        }
        return Instant.ofEpochMilli(millis);
    }
}
