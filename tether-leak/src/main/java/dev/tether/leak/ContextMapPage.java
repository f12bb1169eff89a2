package dev.tether.leak;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Renders a live context map snapshot ({@link ContextMap#toJson()}, version 1) as one self-contained HTML page:
 * the tree of contexts with their deadlines, remaining budgets and cancel causes, the tasks bound to each with
 * leaked ones highlighted, and a flame graph of where the live tasks are stuck. The page needs no network access
 * and loads nothing: its style, script and data are inline, and its content security policy forbids anything else.
 *
 * {@snippet :
 * ContextMapPage.write(Path.of("context-map.html"), ContextMap.capture().toJson());   // open it in any browser
 * }
 *
 * <h2>Untrusted text</h2>
 * Every string in a snapshot (thread names, causes, stack frames) is treated as untrusted. The data is embedded as
 * JSON in a {@code <script type="application/json">} element with {@code <}, {@code >} and {@code &} escaped, so
 * no string can close the element; the page's script builds the DOM with {@code textContent} only; and the policy
 * lets only the page's own script, by hash, run.
 */
public final class ContextMapPage {

    /** The snapshot format this renderer reads. */
    static final int VERSION = 1;
    /** Nesting deeper than this is not a snapshot; refusing it keeps the parser's recursion bounded. */
    private static final int MAX_NESTING = 64;

    private static final String TEMPLATE = resource("map/page.html");
    private static final String STYLE = resource("map/page.css");
    private static final String SCRIPT = resource("map/page.js");

    private ContextMapPage() {}

    /**
     * The HTML page for {@code snapshotJson}.
     *
     * @throws IllegalArgumentException if {@code snapshotJson} is not JSON, or not a version 1 snapshot (an object
     *     with {@code "version": 1} and arrays {@code contexts} and {@code tasks} of objects with string ids)
     */
    public static String render(String snapshotJson) {
        Objects.requireNonNull(snapshotJson, "snapshotJson must not be null");
        Map<String, Object> snapshot = validate(Json.parse(snapshotJson));
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("snapshot", snapshot);
        data.put("flame", Flame.fold(tasks(snapshot)));
        String title = "Tether context map" + (snapshot.get("takenAt") instanceof String at ? " · " + at : "");
        Map<String, String> parts = Map.of(
                "CSP", "default-src 'none'; style-src '" + sha256(STYLE) + "'; script-src '"
                        + sha256(SCRIPT) + "'; base-uri 'none'; form-action 'none'",
                "TITLE", escapeHtml(title),
                "STYLE", STYLE,
                "SCRIPT", SCRIPT,
                "DATA", Json.write(data));
        return fill(TEMPLATE, parts);
    }

    /** Writes the page for {@code snapshotJson} to {@code file} in UTF-8, replacing it if it exists. */
    public static void write(Path file, String snapshotJson) throws IOException {
        Objects.requireNonNull(file, "file must not be null");
        Files.writeString(file, render(snapshotJson), StandardCharsets.UTF_8);
    }

    // ---- the snapshot ----

    private static Map<String, Object> validate(@Nullable Object parsed) {
        if (!(parsed instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("snapshotJson: " + Json.typeName(parsed)
                    + " (expected: an object, the snapshot)");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> snapshot = (Map<String, Object>) map;
        Object version = snapshot.get("version");
        if (!(version instanceof Json.Number n) || !n.text().equals(String.valueOf(VERSION))) {
            throw new IllegalArgumentException("snapshotJson: version " + (version instanceof Json.Number n ? n.text()
                    : Json.typeName(version)) + " (expected: " + VERSION + ")");
        }
        for (String list : List.of("contexts", "tasks")) {
            Object items = snapshot.get(list);
            if (!(items instanceof List<?> l)) {
                throw new IllegalArgumentException("snapshotJson: " + list + " is " + Json.typeName(items)
                        + " (expected: an array)");
            }
            for (int i = 0; i < l.size(); i++) {
                if (!(l.get(i) instanceof Map<?, ?> item) || !(item.get("id") instanceof String)) {
                    throw new IllegalArgumentException("snapshotJson: " + list + "[" + i + "] is not an object with a"
                            + " string id");
                }
            }
        }
        Object lost = snapshot.get("lostCancels");
        if (lost != null && !(lost instanceof List<?>)) {
            throw new IllegalArgumentException("snapshotJson: lostCancels is " + Json.typeName(lost)
                    + " (expected: an array)");
        }
        return snapshot;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> tasks(Map<String, Object> snapshot) {
        return (List<Map<String, Object>>) snapshot.get("tasks");
    }

    /**
     * Folded stacks: each live task's current stack, root frame first, under a first frame naming its
     * classification; identical stacks merged with a count of tasks and of leaked tasks. The page draws its flame
     * graph from these and offers them as text in the folded format flamegraph tools read.
     */
    static final class Flame {
        private Flame() {}

        static List<Map<String, Object>> fold(List<Map<String, Object>> tasks) {
            Map<List<String>, long[]> merged = new LinkedHashMap<>();
            for (Map<String, Object> task : tasks) {
                List<String> frames = new ArrayList<>();
                frames.add("[" + (task.get("classification") instanceof String c ? c : "UNCLASSIFIED") + "]");
                List<String> stack = strings(task.get("stack"));
                if (stack.isEmpty()) {
                    frames.add("[no stack]");
                }
                for (int i = stack.size() - 1; i >= 0; i--) {
                    frames.add(stack.get(i)); // the snapshot lists the top frame first
                }
                long[] counts = merged.computeIfAbsent(frames, f -> new long[2]);
                counts[0]++;
                if (Boolean.TRUE.equals(task.get("leaked"))) {
                    counts[1]++;
                }
            }
            List<Map<String, Object>> out = new ArrayList<>();
            merged.forEach((frames, counts) -> {
                Map<String, Object> s = new LinkedHashMap<>();
                s.put("frames", List.copyOf(frames));
                s.put("tasks", new Json.Number(Long.toString(counts[0])));
                s.put("leaked", new Json.Number(Long.toString(counts[1])));
                out.add(s);
            });
            return out;
        }

        private static List<String> strings(@Nullable Object value) {
            List<String> out = new ArrayList<>();
            if (value instanceof List<?> list) {
                for (Object o : list) {
                    if (o instanceof String s) {
                        out.add(s);
                    }
                }
            }
            return out;
        }
    }

    // ---- page assembly ----

    private static String resource(String name) {
        try (InputStream in = ContextMapPage.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("tether-leak is missing its resource dev/tether/leak/" + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Replaces each {{NAME}} in the template, in one pass: text put in is never searched for placeholders. */
    private static String fill(String template, Map<String, String> parts) {
        StringBuilder out = new StringBuilder(template.length() + parts.values().stream().mapToInt(String::length).sum());
        int from = 0;
        for (int open; (open = template.indexOf("{{", from)) >= 0; ) {
            int close = template.indexOf("}}", open);
            String part = close < 0 ? null : parts.get(template.substring(open + 2, close));
            if (part == null) {
                throw new IllegalStateException("page template: unknown placeholder at " + open);
            }
            out.append(template, from, open).append(part);
            from = close + 2;
        }
        return out.append(template, from, template.length()).toString();
    }

    private static String sha256(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return "sha256-" + Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    static String escapeHtml(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    /**
     * Just enough JSON: a strict parser (RFC 8259, nesting bounded) into maps, lists, strings, booleans, null and
     * {@link Number}s that keep their text, and a writer whose output is safe inside an HTML script element.
     */
    static final class Json {
        private final String in;
        private int pos;

        private Json(String in) {
            this.in = in;
        }

        /** A JSON number, kept as written so that it is rendered exactly as the snapshot had it. */
        record Number(String text) {}

        static @Nullable Object parse(String text) {
            Json p = new Json(text);
            p.space();
            Object value = p.value(0);
            p.space();
            if (p.pos != text.length()) {
                throw p.error("unexpected " + p.describeHere() + " after the value");
            }
            return value;
        }

        private @Nullable Object value(int depth) {
            if (depth > MAX_NESTING) {
                throw error("nesting deeper than " + MAX_NESTING);
            }
            if (pos >= in.length()) {
                throw error("unexpected end");
            }
            char c = in.charAt(pos);
            return switch (c) {
                case '{' -> object(depth);
                case '[' -> array(depth);
                case '"' -> string();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", null);
                default -> {
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        yield number();
                    }
                    throw error("unexpected " + describeHere());
                }
            };
        }

        private Map<String, Object> object(int depth) {
            Map<String, Object> out = new LinkedHashMap<>();
            pos++;
            space();
            if (peek() == '}') {
                pos++;
                return out;
            }
            while (true) {
                space();
                if (peek() != '"') {
                    throw error("expected a member name, found " + describeHere());
                }
                String name = string();
                space();
                expect(':');
                space();
                Object v = value(depth + 1);
                if (out.containsKey(name)) {
                    throw error("duplicate member \"" + name + "\"");
                }
                out.put(name, v);
                space();
                if (peek() == ',') {
                    pos++;
                } else {
                    expect('}');
                    return out;
                }
            }
        }

        private List<@Nullable Object> array(int depth) {
            List<@Nullable Object> out = new ArrayList<>();
            pos++;
            space();
            if (peek() == ']') {
                pos++;
                return out;
            }
            while (true) {
                space();
                out.add(value(depth + 1));
                space();
                if (peek() == ',') {
                    pos++;
                } else {
                    expect(']');
                    return out;
                }
            }
        }

        private String string() {
            pos++; // the opening quote
            StringBuilder out = new StringBuilder();
            while (true) {
                if (pos >= in.length()) {
                    throw error("unterminated string");
                }
                char c = in.charAt(pos++);
                if (c == '"') {
                    return out.toString();
                }
                if (c < 0x20) {
                    throw error("control character U+" + String.format("%04X", (int) c) + " in a string");
                }
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                if (pos >= in.length()) {
                    throw error("unterminated string");
                }
                char e = in.charAt(pos++);
                switch (e) {
                    case '"', '\\', '/' -> out.append(e);
                    case 'b' -> out.append('\b');
                    case 'f' -> out.append('\f');
                    case 'n' -> out.append('\n');
                    case 'r' -> out.append('\r');
                    case 't' -> out.append('\t');
                    case 'u' -> {
                        if (pos + 4 > in.length()) {
                            throw error("short \\u escape");
                        }
                        int code = 0;
                        for (int i = 0; i < 4; i++) {
                            int d = Character.digit(in.charAt(pos++), 16);
                            if (d < 0) {
                                throw error("bad \\u escape");
                            }
                            code = code * 16 + d;
                        }
                        out.append((char) code);
                    }
                    default -> {
                        pos--;
                        throw error("bad escape \\" + e);
                    }
                }
            }
        }

        private Number number() {
            int start = pos;
            if (peek() == '-') {
                pos++;
            }
            if (peek() == '0') {
                pos++;
            } else if (!digits()) {
                throw error("bad number");
            }
            if (peek() == '.') {
                pos++;
                if (!digits()) {
                    throw error("bad number: no digits after '.'");
                }
            }
            if (peek() == 'e' || peek() == 'E') {
                pos++;
                if (peek() == '+' || peek() == '-') {
                    pos++;
                }
                if (!digits()) {
                    throw error("bad number: no digits in the exponent");
                }
            }
            return new Number(in.substring(start, pos));
        }

        private boolean digits() {
            int start = pos;
            while (pos < in.length() && in.charAt(pos) >= '0' && in.charAt(pos) <= '9') {
                pos++;
            }
            return pos > start;
        }

        private @Nullable Object literal(String word, @Nullable Object value) {
            if (!in.startsWith(word, pos)) {
                throw error("unexpected " + describeHere());
            }
            pos += word.length();
            return value;
        }

        private void expect(char c) {
            if (peek() != c) {
                throw error("expected '" + c + "', found " + describeHere());
            }
            pos++;
        }

        private char peek() {
            return pos < in.length() ? in.charAt(pos) : '\0';
        }

        private void space() {
            while (pos < in.length()) {
                char c = in.charAt(pos);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                    return;
                }
                pos++;
            }
        }

        private String describeHere() {
            return pos >= in.length() ? "end of input" : "'" + in.charAt(pos) + "'";
        }

        private IllegalArgumentException error(String message) {
            return new IllegalArgumentException("snapshotJson: invalid JSON at offset " + pos + ": " + message);
        }

        /** "an object", "an array", "a string", "a boolean", "a number" or "null", for messages. */
        static String typeName(@Nullable Object value) {
            if (value == null) {
                return "null";
            }
            if (value instanceof Map<?, ?>) {
                return "an object";
            }
            if (value instanceof List<?>) {
                return "an array";
            }
            if (value instanceof String) {
                return "a string";
            }
            return value instanceof Boolean ? "a boolean" : "a number";
        }

        /**
         * JSON for {@code value}. Besides what JSON requires, escapes {@code <}, {@code >}, {@code &} and the line
         * separators U+2028/U+2029, which can only occur inside strings: the text cannot end a script element.
         */
        static String write(@Nullable Object value) {
            StringBuilder out = new StringBuilder();
            write(out, value);
            return out.toString();
        }

        private static void write(StringBuilder out, @Nullable Object value) {
            if (value == null) {
                out.append("null");
            } else if (value instanceof String s) {
                writeString(out, s);
            } else if (value instanceof Number n) {
                out.append(n.text());
            } else if (value instanceof Boolean b) {
                out.append(b);
            } else if (value instanceof Map<?, ?> map) {
                out.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    if (!first) {
                        out.append(',');
                    }
                    first = false;
                    writeString(out, (String) e.getKey());
                    out.append(':');
                    write(out, e.getValue());
                }
                out.append('}');
            } else if (value instanceof List<?> list) {
                out.append('[');
                for (int i = 0; i < list.size(); i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    write(out, list.get(i));
                }
                out.append(']');
            } else {
                throw new IllegalArgumentException("not JSON: " + value.getClass().getName());
            }
        }

        private static void writeString(StringBuilder out, String s) {
            out.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> out.append("\\\"");
                    case '\\' -> out.append("\\\\");
                    case '\n' -> out.append("\\n");
                    case '\r' -> out.append("\\r");
                    case '\t' -> out.append("\\t");
                    default -> {
                        if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == '\u2028' || c == '\u2029') {
                            out.append(String.format("\\u%04x", (int) c));
                        } else {
                            out.append(c);
                        }
                    }
                }
            }
            out.append('"');
        }
    }
}
