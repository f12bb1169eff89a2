package dev.tether.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ContextCancelledException;
import dev.tether.DeadlineExceededException;
import dev.tether.ManualTimeSource;
import dev.tether.wire.EndedEarly.Kind;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(10)
class EndedEarlyTest {

    @Test
    void ofTakesTheKindFromTheErrAndTheReasonFromItsCause() {
        ManualTimeSource time = ManualTimeSource.create();
        CancellableContext timed = Context.root(time).withTimeout(Duration.ofMillis(5));
        time.advance(Duration.ofMillis(5));
        CancellableContext cancelled = Context.background().withCancel();
        cancelled.cancel(new IllegalStateException("client disconnected"));
        CancellableContext plain = Context.background().withCancel();
        plain.cancel(new java.io.EOFException());

        assertEquals(new EndedEarly(Kind.DEADLINE_EXCEEDED, "context deadline exceeded"), EndedEarly.of(timed.err()));
        assertEquals(new EndedEarly(Kind.CANCELLED, "client disconnected"), EndedEarly.of(cancelled.err()));
        assertEquals(new EndedEarly(Kind.CANCELLED, "EOFException"), EndedEarly.of(plain.err()));
        assertEquals(new EndedEarly(Kind.DEADLINE_EXCEEDED, "budget spent"),
                EndedEarly.of(new DeadlineExceededException("x", new RuntimeException("budget spent"))));
        assertEquals(new EndedEarly(Kind.CANCELLED, "context cancelled"), EndedEarly.of(new ContextCancelledException()));
    }

    @Test
    void headerValueQuotesTheReasonAndParseReadsItBack() {
        EndedEarly ended = new EndedEarly(Kind.DEADLINE_EXCEEDED, "budget \"250ms\" from gateway\\checkout ran out");

        String value = ended.headerValue();

        assertEquals("deadline-exceeded; reason=\"budget \\\"250ms\\\" from gateway\\\\checkout ran out\"", value);
        assertEquals(ended, EndedEarly.parse(value));
        assertEquals("cancelled", new EndedEarly(Kind.CANCELLED, "").headerValue());
        assertEquals(new EndedEarly(Kind.CANCELLED, ""), EndedEarly.parse("cancelled"));
    }

    @Test
    void parseIsLiberalInWhitespaceCaseAndUnknownParameters() {
        assertEquals(new EndedEarly(Kind.CANCELLED, "gone"),
                EndedEarly.parse("  Cancelled ;\treason=\"gone\" ; at=orders;retry=\"no\"  "));
        assertEquals(new EndedEarly(Kind.DEADLINE_EXCEEDED, "tok"), EndedEarly.parse("DEADLINE-EXCEEDED;REASON=tok"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "timeout", "cancelled;", "cancelled; reason", "cancelled; reason=", "cancelled reason=x",
        "cancelled; reason=\"open", "cancelled; reason=\"a\"; reason=\"b\"", "cancelled; reason=\"a\r\nSet-Cookie: x\"",
        "cancelled\r\nSet-Cookie: x=y", "cancelled; reason=\"caf\u00e9\"", "cancelled; reason=\"x\\"})
    void parseRejectsWhatDoesNotFollowTheGrammar(String value) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EndedEarly.parse(value));

        assertTrue(e.getMessage().startsWith("tether-ended: "), e.getMessage());
        assertTrue(e.getMessage().chars().allMatch(c -> c >= 0x20 && c < 0x7f), e.getMessage());
    }

    @Test
    void parseRejectsAMegabyteValueByItsLength() {
        String value = "cancelled; reason=\"" + "x".repeat(1 << 20) + "\"";

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EndedEarly.parse(value));

        assertEquals("tether-ended: 1048596 characters (expected: at most 1024)", e.getMessage());
    }

    @Test
    void sanitizeKeepsPrintableAsciiOnOneBoundedLine() {
        assertEquals("a b c", EndedEarly.sanitize("a\r\nb\tc"));
        assertEquals("x Set-Cookie: y", EndedEarly.sanitize("x\r\nSet-Cookie: y"));
        assertEquals("caf? ? end", EndedEarly.sanitize("caf\u00e9 \ud83d\ude00 end"));
        assertEquals("a b", EndedEarly.sanitize("  a \u2028\u0085 b \u0000 "));
        assertEquals("", EndedEarly.sanitize(null));
        assertEquals("say \"hi\"", EndedEarly.sanitize("say \"hi\""));
        assertEquals("x".repeat(256), EndedEarly.sanitize("x".repeat(256)));
    }

    @Test
    void sanitizeCutsLongTextAndStaysIdempotent() {
        String cut = EndedEarly.sanitize("y".repeat(1 << 20));

        assertEquals(256, cut.length());
        assertTrue(cut.endsWith("y..."));
        assertEquals(cut, EndedEarly.sanitize(cut));
        assertEquals("a".repeat(252) + "...", EndedEarly.sanitize("a".repeat(252) + " " + "b".repeat(10)));
    }

    @Test
    void everyInstanceHoldsASanitizedReason() {
        EndedEarly ended = new EndedEarly(Kind.CANCELLED, "line one\r\nline two " + "z".repeat(5000));

        assertEquals(256, ended.reason().length());
        assertTrue(ended.headerValue().chars().allMatch(c -> c >= 0x20 && c < 0x7f));
        assertEquals(ended, EndedEarly.parse(ended.headerValue()));
    }

    @Test
    void worstCaseHeaderValueStaysWithinWhatParseAccepts() {
        EndedEarly ended = new EndedEarly(Kind.DEADLINE_EXCEEDED, "\"".repeat(1000));

        String value = ended.headerValue();

        assertTrue(value.length() <= EndedEarly.MAX_HEADER, value.length() + " chars");
        assertEquals(ended, EndedEarly.parse(value));
    }

    @Test
    void serializesWithItsInvariants() throws Exception {
        EndedEarly ended = new EndedEarly(Kind.CANCELLED, "gone");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(new PeerEndedException("orders", ended, null));
        }

        PeerEndedException back;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            back = (PeerEndedException) in.readObject();
        }

        assertEquals(ended, back.ended());
        assertEquals("orders ended the call early: cancelled: gone", back.getMessage());
    }

    @Test
    void peerEndedExceptionSanitizesThePeerName() {
        PeerEndedException e = new PeerEndedException("evil\r\nX-Injected: 1",
                new EndedEarly(Kind.DEADLINE_EXCEEDED, "slow"), null);

        assertEquals("evil X-Injected: 1", e.peer());
        assertEquals("evil X-Injected: 1 ended the call early: deadline-exceeded: slow", e.getMessage());
    }
}
