package dev.tether.wire;

import dev.tether.ContextDoneException;
import dev.tether.DeadlineExceededException;
import java.io.Serializable;
import java.util.Locale;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Why a request ended before its handler finished: cancelled, or out of time, with a short reason for people.
 * Carried back to the caller in the {@value WireHeaders#ENDED} response header (or trailer) as
 * {@code kind; reason="..."}, so the caller's exception can say what happened at the far end.
 *
 * {@snippet :
 * EndedEarly ended = EndedEarly.of(requestContext.err());
 * response.setHeader(WireHeaders.ENDED, ended.headerValue());   // deadline-exceeded; reason="budget 250ms ..."
 * EndedEarly.parse(value);                                       // back on the caller's side
 * }
 *
 * <p>A reason is never trusted: the constructor passes it through {@link #sanitize}, so every instance holds at
 * most {@value #MAX_REASON} characters of printable ASCII, and {@link #headerValue()} quotes it. A reason is for
 * people; programs decide on the {@link Kind}.
 *
 * @param kind cancelled, or deadline exceeded
 * @param reason why, for people; possibly empty
 */
public record EndedEarly(Kind kind, String reason) implements Serializable {

    /** The longest reason; longer ones are cut and end in {@code "..."}. */
    public static final int MAX_REASON = 256;

    /** The longest header value {@link #parse} reads; longer values are rejected before they are scanned. */
    public static final int MAX_HEADER = 1024;

    /** How the request ended: Go's {@code context.Canceled} and {@code context.DeadlineExceeded}. */
    public enum Kind {
        /** Someone stopped it: the client went away, the caller cancelled, the server shut down. */
        CANCELLED("cancelled"),
        /** Its budget ran out. */
        DEADLINE_EXCEEDED("deadline-exceeded");

        private final String token;

        Kind(String token) {
            this.token = token;
        }

        /** The kind as it appears on the wire: {@code cancelled} or {@code deadline-exceeded}. */
        public String token() {
            return token;
        }

        /** The kind for a wire token, ignoring ASCII case; null if there is none. */
        static @Nullable Kind ofToken(String token) {
            for (Kind kind : values()) {
                if (kind.token.equalsIgnoreCase(token)) {
                    return kind;
                }
            }
            return null;
        }
    }

    /**
     * Keeps the kind and a {@linkplain #sanitize sanitized} reason.
     *
     * @throws NullPointerException if either is null
     */
    public EndedEarly {
        Objects.requireNonNull(kind, "kind");
        reason = sanitize(Objects.requireNonNull(reason, "reason"));
    }

    /**
     * Why a context ended: the kind from the exception's type, the reason from its cause (the cause's message,
     * else its class's simple name), else from the exception's own message.
     *
     * @throws NullPointerException if err is null
     */
    public static EndedEarly of(ContextDoneException err) {
        Objects.requireNonNull(err, "err");
        Kind kind = err instanceof DeadlineExceededException ? Kind.DEADLINE_EXCEEDED : Kind.CANCELLED;
        Throwable cause = err.getCause();
        return new EndedEarly(kind, describe(cause != null ? cause : err));
    }

    /**
     * Reads a {@value WireHeaders#ENDED} value.
     *
     * <pre>
     * ended     = kind *( OWS ";" OWS parameter )
     * kind      = "cancelled" / "deadline-exceeded"        ; ASCII case-insensitive
     * parameter = token "=" ( token / quoted-string )       ; "reason" at most once; others are ignored
     * </pre>
     *
     * @throws NullPointerException if headerValue is null
     * @throws IllegalArgumentException if it is longer than {@value #MAX_HEADER} characters (checked first), the
     *     kind is unknown, or it does not follow the grammar
     */
    public static EndedEarly parse(String headerValue) {
        Objects.requireNonNull(headerValue, "headerValue");
        if (headerValue.length() > MAX_HEADER) {
            throw new IllegalArgumentException(WireHeaders.ENDED + ": " + headerValue.length()
                    + " characters (expected: at most " + MAX_HEADER + ")");
        }
        return new Parser(headerValue).parse();
    }

    /** {@code kind}, then {@code ; reason="..."} unless the reason is empty, with {@code "} and {@code \} escaped. */
    public String headerValue() {
        if (reason.isEmpty()) {
            return kind.token;
        }
        StringBuilder out = new StringBuilder(kind.token.length() + reason.length() + 12);
        out.append(kind.token).append("; reason=\"");
        for (int i = 0; i < reason.length(); i++) {
            char c = reason.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\');
            }
            out.append(c);
        }
        return out.append('"').toString();
    }

    /**
     * Text safe to put in a header, a trailer or a log line: CR, LF, tab and other control characters become
     * spaces, every other character outside printable ASCII becomes {@code ?}, runs of spaces shrink to one, the
     * ends are trimmed, and text longer than {@value #MAX_REASON} characters is cut to end in {@code "..."}.
     * Null becomes empty. Applying it twice changes nothing.
     */
    public static String sanitize(@Nullable String reason) {
        if (reason == null) {
            return "";
        }
        // Reads no further than the bound needs, so a megabyte of text costs what 256 characters do.
        StringBuilder out = new StringBuilder(Math.min(reason.length(), MAX_REASON + 1));
        boolean pendingSpace = false;
        for (int i = 0; i < reason.length() && out.length() <= MAX_REASON; i++) {
            char c = reason.charAt(i);
            if (c <= 0x20 || c == 0x7f || Character.isWhitespace(c) || Character.isISOControl(c)) {
                pendingSpace = out.length() > 0;
                continue;
            }
            if (pendingSpace) {
                out.append(' ');
                pendingSpace = false;
            }
            if (Character.isHighSurrogate(c) && i + 1 < reason.length()
                    && Character.isLowSurrogate(reason.charAt(i + 1))) {
                i++;   // one '?' per code point, not per char
            }
            out.append(Ascii.isPrintable(c) ? c : '?');
        }
        if (out.length() > MAX_REASON) {
            out.setLength(MAX_REASON - 3);
            while (out.length() > 0 && out.charAt(out.length() - 1) == ' ') {
                out.setLength(out.length() - 1);
            }
            out.append("...");
        }
        return out.toString();
    }

    /** The kind's token and the reason, for logs. */
    @Override
    public String toString() {
        return reason.isEmpty() ? kind.token : kind.token + ": " + reason;
    }

    private static String describe(Throwable t) {
        String message = t.getMessage();
        return message != null && !message.isBlank() ? message : t.getClass().getSimpleName();
    }

    /** A one-pass reader of the grammar in {@link #parse}; every failure names the index. */
    private static final class Parser {
        private final String in;
        private int at;

        Parser(String in) {
            this.in = in;
        }

        EndedEarly parse() {
            skipOws();
            String kindToken = token("kind");
            Kind kind = Kind.ofToken(kindToken);
            if (kind == null) {
                throw fail("unknown kind \"" + EndedEarly.sanitize(kindToken)
                        + "\" (expected: cancelled or deadline-exceeded)");
            }
            String reason = null;
            skipOws();
            while (at < in.length()) {
                expect(';');
                skipOws();
                String name = token("parameter name").toLowerCase(Locale.ROOT);
                expect('=');
                String value = at < in.length() && in.charAt(at) == '"' ? quoted() : token("parameter value");
                if (name.equals("reason")) {
                    if (reason != null) {
                        throw fail("reason given twice");
                    }
                    reason = value;
                }
                skipOws();
            }
            return new EndedEarly(kind, reason == null ? "" : reason);
        }

        private String token(String what) {
            int start = at;
            while (at < in.length() && Ascii.isTchar(in.charAt(at))) {
                at++;
            }
            if (at == start) {
                throw fail(what + " missing");
            }
            return in.substring(start, at);
        }

        private String quoted() {
            at++;   // the opening quote
            StringBuilder out = new StringBuilder();
            while (at < in.length()) {
                char c = in.charAt(at++);
                if (c == '"') {
                    return out.toString();
                }
                if (c == '\\') {
                    if (at == in.length()) {
                        break;
                    }
                    c = in.charAt(at++);
                }
                if (!Ascii.isPrintable(c) && c != '\t') {
                    throw fail("character " + Ascii.describe(c) + " in a quoted string");
                }
                out.append(c);
            }
            throw fail("unterminated quoted string");
        }

        private void expect(char c) {
            if (at >= in.length() || in.charAt(at) != c) {
                throw fail(at >= in.length()
                        ? "'" + c + "' missing at the end"
                        : "character " + Ascii.describe(in.charAt(at)) + " (expected: '" + c + "')");
            }
            at++;
        }

        private void skipOws() {
            while (at < in.length() && Ascii.isOws(in.charAt(at))) {
                at++;
            }
        }

        private IllegalArgumentException fail(String problem) {
            return new IllegalArgumentException(WireHeaders.ENDED + ": " + problem + " at index " + at);
        }
    }
}
