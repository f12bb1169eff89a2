package dev.tether.leak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The page as text: one self-contained document, the snapshot embedded so that no string can break out of it,
 * bad snapshots refused with a message that says what is wrong, and the folded stacks the flame graph is drawn
 * from. ContextMapPageChromiumTest checks what a browser makes of it.
 */
@Timeout(30)
class ContextMapPageTest {

    static String fixture(String name) throws IOException {
        try (InputStream in = ContextMapPageTest.class.getResourceAsStream("map/" + name)) {
            assertNotNull(in, "test resource map/" + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void pageIsOneSelfContainedDocument() throws Exception {
        String page = ContextMapPage.render(fixture("checkout-snapshot.json"));

        assertTrue(page.startsWith("<!DOCTYPE html>"), page.substring(0, 40));
        assertTrue(page.contains("<style>") && page.contains("<script>"), "style and script are inline");
        String markup = page.replaceAll("(?s)<script([^>]*)>.*?</script>", "<script$1></script>");
        assertFalse(Pattern.compile("(?i)\\s(src|href)\\s*=").matcher(markup).find(), "no element loads anything");
        assertFalse(Pattern.compile("(?i)@import|url\\(|https?://").matcher(page).find(), "no external resource");
        Matcher csp = Pattern.compile("Content-Security-Policy\" content=\"([^\"]+)\"").matcher(page);
        assertTrue(csp.find(), "a content security policy");
        assertTrue(csp.group(1).startsWith("default-src 'none';"), csp.group(1));
        assertTrue(csp.group(1).contains("script-src 'sha256-"), "only the page's own script, by hash: " + csp.group(1));
    }

    @Test
    void embeddedDataIsTheSnapshotPlusFoldedStacks() throws Exception {
        String json = fixture("checkout-snapshot.json");

        Map<?, ?> data = (Map<?, ?>) ContextMapPage.Json.parse(embedded(ContextMapPage.render(json)));

        assertEquals(ContextMapPage.Json.parse(json), data.get("snapshot"), "the snapshot, unchanged");
        List<?> flame = (List<?>) data.get("flame");
        assertEquals(5, flame.size(), "six tasks, two of them stuck in the same place");
    }

    @Test
    void noStringCanCloseTheDataElement() throws Exception {
        String hostile = "</script><script>alert(1)</script><!-- \u2028 & </SCRIPT >";
        String json = """
                {"version": 1, "takenAt": "%s", "level": "FULL",
                 "contexts": [{"id": "%s", "parent": null, "kind": "WithCancel", "site": "%s", "done": false}],
                 "tasks": [{"id": "t1", "context": "%s", "thread": "%s", "stack": ["%s"], "leaked": true}]}
                """.formatted(esc(hostile), esc(hostile), esc(hostile), esc(hostile), esc(hostile), esc(hostile));

        String page = ContextMapPage.render(json);

        assertEquals(2, count(page.toLowerCase(java.util.Locale.ROOT), "</script"),
                "only the two real closing tags: the data's and the script's");
        assertFalse(page.contains("<!--"), "no comment opener either");
        Map<?, ?> snapshot = (Map<?, ?>) ((Map<?, ?>) ContextMapPage.Json.parse(embedded(page))).get("snapshot");
        Map<?, ?> task = (Map<?, ?>) ((List<?>) snapshot.get("tasks")).get(0);
        assertEquals(hostile, task.get("thread"), "the text itself survives, escaped");
        assertTrue(page.contains("<title>Tether context map · &lt;/script&gt;&lt;script&gt;"), "the title is escaped");
    }

    @Test
    void badSnapshotsAreRefusedSayingWhatIsWrong() {
        assertMessage("snapshotJson: invalid JSON at offset 1", "{");
        assertMessage("snapshotJson: invalid JSON at offset 13: unexpected '}' after the value", "{\"version\":1}}");
        assertMessage("snapshotJson: an array (expected: an object, the snapshot)", "[]");
        assertMessage("snapshotJson: version 2 (expected: 1)", "{\"version\":2,\"contexts\":[],\"tasks\":[]}");
        assertMessage("snapshotJson: version null (expected: 1)", "{\"contexts\":[],\"tasks\":[]}");
        assertMessage("snapshotJson: contexts is null (expected: an array)", "{\"version\":1,\"tasks\":[]}");
        assertMessage("snapshotJson: tasks[0] is not an object with a string id",
                "{\"version\":1,\"contexts\":[],\"tasks\":[{\"id\":5}]}");
        assertMessage("duplicate member \"a\"", "{\"a\":1,\"a\":2}");
        assertMessage("snapshotJson: lostCancels is a string (expected: an array)",
                "{\"version\":1,\"contexts\":[],\"tasks\":[],\"lostCancels\":\"none\"}");
        assertMessage("nesting deeper than 64", "[".repeat(100) + "]".repeat(100));
        assertMessage("control character U+000A in a string", "{\"a\":\"x\ny\"}");
        NullPointerException npe = assertThrows(NullPointerException.class, () -> ContextMapPage.render(null));
        assertTrue(npe.getMessage().contains("snapshotJson"), npe.getMessage());
    }

    @Test
    void parserReadsEveryJsonFormAndNumbersKeepTheirText() {
        Object v = ContextMapPage.Json.parse(
                " {\"s\": \"a\\\"b\\\\c\\/\\u00e9\\n\", \"n\": [-0.5e+3, 12, 0], \"t\": true, \"f\": false, \"z\": null} ");

        Map<?, ?> m = (Map<?, ?>) v;
        assertEquals("a\"b\\c/é\n", m.get("s"));
        assertEquals(List.of(new ContextMapPage.Json.Number("-0.5e+3"), new ContextMapPage.Json.Number("12"),
                new ContextMapPage.Json.Number("0")), m.get("n"));
        assertEquals(Boolean.TRUE, m.get("t"));
        assertEquals(Boolean.FALSE, m.get("f"));
        assertTrue(m.containsKey("z") && m.get("z") == null);
        assertEquals("{\"s\":\"a\\\"b\\\\c/é\\n\",\"n\":[-0.5e+3,12,0],\"t\":true,\"f\":false,\"z\":null}",
                ContextMapPage.Json.write(v));
    }

    @Test
    void foldedStacksPutTheRootFirstUnderTheClassificationAndMergeIdenticalStacks() throws Exception {
        Map<?, ?> snapshot = (Map<?, ?>) ContextMapPage.Json.parse(fixture("checkout-snapshot.json"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> tasks = (List<Map<String, Object>>) snapshot.get("tasks");

        List<Map<String, Object>> folded = ContextMapPage.Flame.fold(tasks);

        Map<String, Object> pricing = folded.stream()
                .filter(s -> ((List<?>) s.get("frames")).contains("com.shop.pricing.PriceEngine.applyRules(PriceEngine.java:233)"))
                .findFirst().orElseThrow();
        assertEquals(List.of("[IGNORING_CANCELLATION]",
                "com.shop.checkout.CheckoutService.lambda$checkout$1(CheckoutService.java:52)",
                "com.shop.pricing.PricingClient.quote(PricingClient.java:57)",
                "com.shop.pricing.PriceEngine.computeDiscounts(PriceEngine.java:210)",
                "com.shop.pricing.PriceEngine.applyRules(PriceEngine.java:233)"), pricing.get("frames"));
        assertEquals(new ContextMapPage.Json.Number("2"), pricing.get("tasks"), "t2 and t3 are stuck in the same place");
        assertEquals(new ContextMapPage.Json.Number("2"), pricing.get("leaked"));
        long leaked = folded.stream().mapToLong(s -> Long.parseLong(((ContextMapPage.Json.Number) s.get("leaked")).text())).sum();
        assertEquals(4, leaked);
    }

    @Test
    void aTaskWithoutAStackStillCounts() {
        List<Map<String, Object>> folded = ContextMapPage.Flame.fold(List.of(Map.of("id", "t1", "leaked", true)));

        assertEquals(List.of("[UNCLASSIFIED]", "[no stack]"), folded.get(0).get("frames"));
        assertEquals(new ContextMapPage.Json.Number("1"), folded.get(0).get("leaked"));
    }

    @Test
    void theScriptBuildsTheDomWithTextOnly() throws Exception {
        String script;
        try (InputStream in = ContextMapPage.class.getResourceAsStream("map/page.js")) {
            script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        for (String sink : List.of("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                "new Function", "setAttribute(", "srcdoc", ".src", "fetch(", "XMLHttpRequest", "WebSocket", "import(",
                "sendBeacon", "window.open", "location")) {
            assertFalse(script.contains(sink), "page.js uses " + sink);
        }
        Matcher links = Pattern.compile("\\.href = (.*);").matcher(script);
        while (links.find()) {
            assertTrue(links.group(1).startsWith("'#"), "links only within the page: " + links.group());
        }
    }

    @Test
    void writeSavesThePageAsUtf8(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("map.html");
        String json = fixture("checkout-snapshot.json");

        ContextMapPage.write(file, json);

        assertEquals(ContextMapPage.render(json), Files.readString(file, StandardCharsets.UTF_8));
        NullPointerException npe = assertThrows(NullPointerException.class, () -> ContextMapPage.write(null, json));
        assertTrue(npe.getMessage().contains("file"), npe.getMessage());
    }

    static String embedded(String page) {
        Matcher m = Pattern.compile("<script type=\"application/json\" id=\"tether-data\">(.*?)</script>",
                Pattern.DOTALL).matcher(page);
        assertTrue(m.find(), "the data element");
        return m.group(1);
    }

    private static void assertMessage(String expected, String json) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ContextMapPage.render(json));
        assertTrue(e.getMessage().contains(expected), () -> "expected \"" + expected + "\" in: " + e.getMessage());
    }

    private static String esc(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }
}
