package dev.tether.leak;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A small JSON writer: objects, arrays, strings, numbers, booleans and null, written in order into one builder.
 * The caller keeps the structure well formed; this class keeps every string valid JSON.
 *
 * <p>Strings escape {@code "} and {@code \}, every control character, the line separators U+2028 and U+2029,
 * unpaired surrogates, and {@code <}, {@code >} and {@code &}, so a document can be embedded in an HTML
 * {@code <script>} element or a JavaScript string as it is.
 */
final class Json {

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final StringBuilder out = new StringBuilder(256);
    /** Whether the next value or name in the current container needs a comma before it. */
    private boolean comma;

    Json beginObject() {
        separate();
        out.append('{');
        comma = false;
        return this;
    }

    Json endObject() {
        out.append('}');
        comma = true;
        return this;
    }

    Json beginArray() {
        separate();
        out.append('[');
        comma = false;
        return this;
    }

    Json endArray() {
        out.append(']');
        comma = true;
        return this;
    }

    /** A member name; the next call writes its value. */
    Json name(String name) {
        separate();
        quote(out, name);
        out.append(':');
        comma = false;
        return this;
    }

    Json value(@Nullable String value) {
        separate();
        if (value == null) {
            out.append("null");
        } else {
            quote(out, value);
        }
        comma = true;
        return this;
    }

    Json value(long value) {
        separate();
        out.append(value);
        comma = true;
        return this;
    }

    Json value(@Nullable Long value) {
        return value == null ? nullValue() : value(value.longValue());
    }

    Json value(boolean value) {
        separate();
        out.append(value);
        comma = true;
        return this;
    }

    /** An instant as ISO-8601 with millisecond precision, or null. */
    Json value(@Nullable Instant value) {
        return value(value == null ? null : iso(value));
    }

    Json nullValue() {
        separate();
        out.append("null");
        comma = true;
        return this;
    }

    Json strings(@Nullable List<String> values) {
        if (values == null) {
            return nullValue();
        }
        beginArray();
        for (String v : values) {
            value(v);
        }
        return endArray();
    }

    Json member(String name, @Nullable String value) {
        return name(name).value(value);
    }

    Json member(String name, long value) {
        return name(name).value(value);
    }

    Json member(String name, @Nullable Long value) {
        return name(name).value(value);
    }

    Json member(String name, boolean value) {
        return name(name).value(value);
    }

    Json member(String name, @Nullable Instant value) {
        return name(name).value(value);
    }

    private void separate() {
        if (comma) {
            out.append(',');
        }
    }

    @Override
    public String toString() {
        return out.toString();
    }

    static String iso(Instant instant) {
        return instant.truncatedTo(ChronoUnit.MILLIS).toString();
    }

    /** Appends {@code s} as a JSON string literal. */
    static void quote(StringBuilder out, String s) {
        out.append('"');
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == '\u2028' || c == '\u2029'
                            || c == 0x7f) {
                        unicode(out, c);
                    } else if (Character.isHighSurrogate(c)) {
                        if (i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                            out.append(c).append(s.charAt(++i)); // a well-formed pair stays as it is
                        } else {
                            unicode(out, c); // unpaired: escaped, so the text still encodes as UTF-8
                        }
                    } else if (Character.isLowSurrogate(c)) {
                        unicode(out, c);
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    private static void unicode(StringBuilder out, char c) {
        out.append("\\u").append(HEX[(c >> 12) & 0xf]).append(HEX[(c >> 8) & 0xf])
                .append(HEX[(c >> 4) & 0xf]).append(HEX[c & 0xf]);
    }
}
