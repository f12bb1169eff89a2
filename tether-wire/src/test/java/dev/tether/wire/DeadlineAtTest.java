package dev.tether.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(10)
class DeadlineAtTest {

    @Test
    void formatsAndParsesEpochMillis() {
        Instant deadline = Instant.parse("2030-01-01T00:00:00.123456Z");

        String value = DeadlineAt.format(deadline);

        assertEquals("1893456000123", value);
        assertEquals(Instant.parse("2030-01-01T00:00:00.123Z"), DeadlineAt.parse(value));
    }

    @Test
    void rejectsDeadlinesItCannotCarry() {
        assertThrows(IllegalArgumentException.class, () -> DeadlineAt.format(Instant.EPOCH.minusMillis(1)));
        assertThrows(IllegalArgumentException.class, () -> DeadlineAt.format(Instant.MAX));
        assertEquals("999999999999999", DeadlineAt.format(Instant.ofEpochMilli(999_999_999_999_999L)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-1", "+1", "1.5", "1 ", "１", "1234567890123456", "12\r\n"})
    void parseRejectsMalformedValues(String value) {
        assertThrows(IllegalArgumentException.class, () -> DeadlineAt.parse(value));
    }

    @Test
    void parseRejectsAMegabyteByItsLength() {
        assertEquals("tether-deadline-at: 1048576 characters (expected: 1 to 15 digits)",
                assertThrows(IllegalArgumentException.class, () -> DeadlineAt.parse("1".repeat(1 << 20))).getMessage());
    }
}
