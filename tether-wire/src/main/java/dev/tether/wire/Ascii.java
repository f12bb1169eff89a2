package dev.tether.wire;

/** Character classes of RFC 9110 and safe descriptions of hostile characters for error messages. */
final class Ascii {

    private Ascii() {
    }

    /** RFC 9110 {@code tchar}: the characters of a token. */
    static boolean isTchar(char c) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
            return true;
        }
        return switch (c) {
            case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~' -> true;
            default -> false;
        };
    }

    /** ASCII digits only: {@link Character#isDigit} also accepts other scripts' digits, which no peer sends. */
    static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** Visible ASCII and space: what a header value may carry without encoding. */
    static boolean isPrintable(char c) {
        return c >= 0x20 && c < 0x7f;
    }

    /** A character as an error message may show it: never raw if it could break a log line or a header. */
    static String describe(char c) {
        return isPrintable(c) && c != ' ' ? "'" + c + "'" : String.format("0x%04x", (int) c);
    }

    /** The value without leading and trailing spaces and tabs (RFC 9110 OWS, which is not part of a field value). */
    static String trimOws(String value) {
        int start = 0;
        int end = value.length();
        while (start < end && isOws(value.charAt(start))) {
            start++;
        }
        while (end > start && isOws(value.charAt(end - 1))) {
            end--;
        }
        return value.substring(start, end);
    }

    static boolean isOws(char c) {
        return c == ' ' || c == '\t';
    }
}
