package dev.tether.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(10)
class GrpcTimeoutTest {

    @ParameterizedTest
    @CsvSource({
        "PT0.000000001S, 1n",
        "PT0.099999999S, 99999999n",
        "PT0.1S, 100000u",
        "PT0.25S, 250000u",
        "PT99.999999S, 99999999u",
        "PT99.9999999S, 99999999u",
        "PT100S, 100000m",
        "PT27H46M39.999S, 99999999m",
        "PT27H46M40S, 100000S",
        "PT1.5S, 1500000u",
        "PT27777H46M39S, 99999999S",
        "PT27777H46M40S, 1666666M",
        "PT1666666H39M, 99999999M",
        "PT1666666H40M, 1666666H",
    })
    void formatUsesTheFinestUnitThatFitsInEightDigitsRoundingDown(Duration budget, String expected) {
        assertEquals(expected, GrpcTimeout.format(budget));
    }

    @Test
    void formatOfZeroOrNegativeIsZeroNanos() {
        assertEquals("0n", GrpcTimeout.format(Duration.ZERO));
        assertEquals("0n", GrpcTimeout.format(Duration.ofNanos(-1)));
        assertEquals("0n", GrpcTimeout.format(Duration.ofSeconds(Long.MIN_VALUE)));
    }

    @Test
    void formatClampsBeyondTheLargestValue() {
        assertEquals("99999999H", GrpcTimeout.format(GrpcTimeout.MAX));
        assertEquals("99999999H", GrpcTimeout.format(GrpcTimeout.MAX.plusHours(1)));
        assertEquals("99999999H", GrpcTimeout.format(Duration.ofSeconds(Long.MAX_VALUE, 999_999_999)));
        assertEquals("99999998H", GrpcTimeout.format(GrpcTimeout.MAX.minusNanos(1)));
    }

    @ParameterizedTest
    @CsvSource({
        "1H, PT1H", "99999999H, PT99999999H", "2M, PT2M", "30S, PT30S", "250m, PT0.25S", "7u, PT0.000007S",
        "9n, PT0.000000009S", "0n, PT0S", "00000001S, PT1S", "0H, PT0S",
    })
    void parseReadsEveryUnit(String value, Duration expected) {
        assertEquals(expected, GrpcTimeout.parse(value));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "m", "5", "123456789", "123456789m", "+5m", "-5m", " 5m", "5m ", "5 m", "5x", "5ms", "5h", "5s",
        "5\r\nm", "5\nX", "1.5S", "0x10S", "5M5", "５m", "٥m", "∞H", "1e3m",
    })
    void parseRejectsMalformedValues(String value) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GrpcTimeout.parse(value));

        assertTrue(e.getMessage().startsWith("grpc-timeout syntax: "), e.getMessage());
        assertFalse(e.getMessage().contains("\r") || e.getMessage().contains("\n"), "message must stay one line");
    }

    @Test
    void parseMessagesNameTheProblem() {
        assertEquals("grpc-timeout syntax: 10 characters (expected: at most 8 digits and a unit)",
                assertThrows(IllegalArgumentException.class, () -> GrpcTimeout.parse("123456789m")).getMessage());
        assertEquals("grpc-timeout syntax: 9 digits (expected: at most 8 digits and a unit)",
                assertThrows(IllegalArgumentException.class, () -> GrpcTimeout.parse("123456789")).getMessage());
        assertEquals("grpc-timeout syntax: unknown unit 'x' (expected: H, M, S, m, u or n)",
                assertThrows(IllegalArgumentException.class, () -> GrpcTimeout.parse("5x")).getMessage());
        assertEquals("grpc-timeout syntax: character '-' at index 0 (expected: a digit 0-9)",
                assertThrows(IllegalArgumentException.class, () -> GrpcTimeout.parse("-5m")).getMessage());
        assertEquals("grpc-timeout syntax: character 0x000d at index 1 (expected: a digit 0-9)",
                assertThrows(IllegalArgumentException.class, () -> GrpcTimeout.parse("5\r\nm")).getMessage());
        assertEquals("grpc-timeout syntax: missing unit (expected: H, M, S, m, u or n after the digits)",
                assertThrows(IllegalArgumentException.class, () -> GrpcTimeout.parse("5")).getMessage());
        assertEquals("grpc-timeout syntax: no digits before the unit 'S'",
                assertThrows(IllegalArgumentException.class, () -> GrpcTimeout.parse("S")).getMessage());
        assertEquals("grpc-timeout syntax: empty value (expected: 1 to 8 digits and a unit H, M, S, m, u or n)",
                assertThrows(IllegalArgumentException.class, () -> GrpcTimeout.parse("")).getMessage());
    }

    @Test
    void aMegabyteValueIsRejectedByItsLength() {
        String huge = "9".repeat(1 << 20) + "S";

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GrpcTimeout.parse(huge));

        assertEquals("grpc-timeout syntax: 1048577 characters (expected: at most 8 digits and a unit)",
                e.getMessage());
    }

    @Test
    void formatThenParseLosesLessThanOneUnitAndNeverAddsTime() {
        Random random = new Random(8);
        for (int i = 0; i < 100_000; i++) {
            // Spread over 1 ns .. ~3 years so that every unit is exercised.
            long nanos = (long) Math.pow(10, random.nextDouble() * 17);
            Duration budget = Duration.ofNanos(Math.max(1, nanos));

            String value = GrpcTimeout.format(budget);
            Duration back = GrpcTimeout.parse(value);

            assertTrue(value.length() <= 9, value);
            assertTrue(back.compareTo(budget) <= 0, budget + " -> " + value);
            // A coarser unit is chosen only when the value is at least 100,000 of it: loss < 1 unit <= budget / 1e5.
            Duration loss = budget.minus(back);
            assertTrue(loss.toNanos() <= budget.toNanos() / 100_000, budget + " -> " + value);
        }
    }

    @Test
    void parseThenFormatIsStableForCanonicalValues() {
        for (String value : new String[] {"1n", "99999999n", "100000u", "100000m", "100000S", "99999999S", "1666667M", "1666667H", "99999999H"}) {
            assertEquals(value, GrpcTimeout.format(GrpcTimeout.parse(value)));
        }
    }

    @Test
    void nullsAreRejectedByName() {
        assertEquals("budget", assertThrows(NullPointerException.class, () -> GrpcTimeout.format(null)).getMessage());
        assertEquals("value", assertThrows(NullPointerException.class, () -> GrpcTimeout.parse(null)).getMessage());
    }
}
