package dev.tether.leak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The page in a real browser: headless Chromium (Debian's {@code chromium} package, installed here with apt-get
 * when missing and the tests run as root) loads it from a file and dumps the DOM its script built. A missing
 * browser that cannot be installed fails the test; it never passes without having rendered.
 */
@Timeout(value = 20, unit = TimeUnit.MINUTES) // the first run may install Chromium; each browser run is bounded below
class ContextMapPageChromiumTest {

    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Duration INSTALL_STEP = Duration.ofMinutes(8);
    static final Duration BROWSER_RUN = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    @BeforeAll
    static void chromiumIsThere() throws Exception {
        ensureChromium();
    }

    @Test
    void fixtureRendersTreeLeaksAndFlameGraph() throws Exception {
        String dom = dumpDom(ContextMapPageTest.fixture("checkout-snapshot.json"));

        assertTrue(dom.contains("data-rendered=\"true\""), "the page's script ran to the end:\n" + head(dom));
        // The tree: every context, each under its parent.
        assertEquals(9, count(dom, "<li class=\"context "), dom);
        String c2 = element(dom, "li", "id=\"ctx-c2\"");
        assertTrue(c2.contains("id=\"ctx-c3\""), "c3 hangs under c2");
        assertFalse(c2.contains("id=\"ctx-c4\""), "c4 is a root of its own");
        assertTrue(element(dom, "li", "id=\"ctx-c7\"").contains("id=\"ctx-c9\""));
        assertTrue(c2.contains("client went away"), "the cancel cause is shown");
        assertTrue(element(dom, "li", "id=\"ctx-c9\"").contains("46 ms left"), "the remaining budget is shown");
        // The leaked task, highlighted, with where it was started and why it is stuck.
        String t2 = element(dom, "li", "data-task=\"t2\"");
        assertTrue(t2.startsWith("<li class=\"task leaked cls-ignoring_cancellation\""), t2);
        assertTrue(t2.contains("com.shop.checkout.CheckoutService.checkout(CheckoutService.java:52)"), t2);
        assertTrue(t2.contains("IGNORING_CANCELLATION"), t2);
        assertTrue(t2.contains("LEAKED"), t2);
        assertTrue(element(dom, "li", "data-task=\"t5\"").startsWith("<li class=\"task cls-parked\""),
                "a live task that is not leaked is not highlighted");
        // The leak summary groups t2 and t3, started at the same place.
        assertTrue(dom.contains("2 tasks started at "), dom);
        // The flame graph: frames drawn as boxes, named shortly, with the full frame kept.
        assertTrue(count(dom, "class=\"flame-frame") >= 10, "flame boxes drawn");
        assertTrue(dom.contains("data-frame=\"com.shop.pricing.PriceEngine.computeDiscounts(PriceEngine.java:210)\""));
        assertTrue(dom.contains(">PriceEngine.computeDiscounts:210</div>"), "frames are labelled shortly");
        assertTrue(dom.contains("[BLOCKED_UNINTERRUPTIBLE]"), "stacks are split by classification");
        assertTrue(dom.contains("com.shop.cache.PriceCache.refresh(PriceCache.java:61)"), "lost cancels listed");
    }

    @Test
    void hostileStringsStayText() throws Exception {
        String json = """
                {"version": 1, "takenAt": "2026-11-24T01:02:03Z", "level": "FULL",
                 "contexts": [{"id": "\\"><i id=\\"inj-id\\">x</i>", "parent": null, "kind": "<b id=\\"inj-kind\\">",
                               "site": "</script><script>document.documentElement.dataset.pwned='1'</script>",
                               "done": true,
                               "endedBy": {"type": "cancelled", "cause": "<img src=x onerror=\\"document.documentElement.dataset.pwned='2'\\">"}}],
                 "tasks": [{"id": "t1", "context": "\\"><i id=\\"inj-id\\">x</i>", "leaked": true,
                            "thread": "<svg onload=\\"document.documentElement.dataset.pwned='3'\\">",
                            "classification": "\\" onmouseover=\\"x", "stack": ["<iframe srcdoc=\\"x\\">"],
                            "creationStack": ["javascript:alert(1)"]}]}
                """;

        String dom = dumpDom(json);

        assertTrue(dom.contains("data-rendered=\"true\""), "the page's script ran to the end:\n" + head(dom));
        assertFalse(Pattern.compile("<html[^>]*pwned").matcher(dom).find(), "no injected script or handler ran");
        for (String tag : List.of("<img", "<svg", "<iframe", "<i id=", "<b id=")) {
            assertFalse(dom.contains(tag), "no " + tag + " element was created from data");
        }
        assertTrue(dom.contains("&lt;img src=x onerror="), "the cause is shown as text");
        assertTrue(dom.contains("&lt;svg onload="), "the thread name is shown as text");
        assertTrue(dom.contains("class=\"task leaked cls-onmouseoverx\""), "class names from data are sanitized");
    }

    /**
     * A real detector, two planted leaks (a loop that never checks its context, and a read from a socket that
     * never answers on a platform thread, which an interrupt does not end), the map captured and rendered: both
     * show as leaked, under the right contexts, with their creation sites and classifications.
     */
    @Test
    void plantedLeaksAreVisibleInTheRenderedMap() throws Exception {
        try (PlantedLeaks leaks = PlantedLeaks.plant()) {
            String json = ContextMap.capture(leaks.detector).toJson();
            Files.writeString(Path.of("target", "planted-leaks.json").toAbsolutePath(), json);

            String dom = dumpDom(json);

            assertTrue(dom.contains("data-rendered=\"true\""), "the page's script ran to the end:\n" + head(dom));
            String request = element(dom, "li", "data-context=\"" + leaks.requestId() + "\"");
            String call = element(request, "li", "data-context=\"" + leaks.callId() + "\"");
            String loop = element(request, "li", "data-task=\"" + leaks.loopTaskId() + "\"");
            assertTrue(loop.startsWith("<li class=\"task leaked cls-ignoring_cancellation\""), loop);
            assertTrue(loop.contains(PlantedLeaks.LOOP_SITE), "the loop's creation site: " + loop);
            String read = element(call, "li", "data-task=\"" + leaks.readTaskId() + "\"");
            assertTrue(read.startsWith("<li class=\"task leaked cls-blocked_uninterruptible\""), read);
            assertTrue(read.contains(PlantedLeaks.READ_SITE), "the read's creation site: " + read);
            assertTrue(read.contains("PlantedLeaks.readForever"), "its current stack: " + read);
            assertTrue(request.contains("the client went away"), "the cancel cause is shown");
            assertTrue(dom.contains("data-frame=\"[BLOCKED_UNINTERRUPTIBLE]\""), "the flame graph has the read");
            assertTrue(dom.contains("data-frame=\"[IGNORING_CANCELLATION]\""), "and the loop");
            assertEquals(2, count(element(dom, "section", "class=\"panel leaks\""), "class=\"leak-task\""),
                    "exactly the two planted leaks are listed");
        }
    }

    /** Renders once to a PNG for a person to look at; the test checks only that Chromium wrote an image. */
    @Test
    void screenshotOfTheFixture() throws Exception {
        Path page = dir.resolve("map.html");
        ContextMapPage.write(page, ContextMapPageTest.fixture("checkout-snapshot.json"));
        Path png = Path.of("target", "context-map.png").toAbsolutePath();
        Files.deleteIfExists(png);

        run(List.of("--screenshot=" + png, "--window-size=1400,2200", "--hide-scrollbars", page.toUri().toString()));

        assertTrue(Files.size(png) > 10_000, "a screenshot at " + png);
        byte[] magic = Files.readAllBytes(png);
        assertEquals((byte) 0x89, magic[0]);
        assertEquals('P', magic[1]);
    }

    // ---- browser ----

    String dumpDom(String json) throws Exception {
        Path page = Files.createTempFile(dir, "map", ".html");
        ContextMapPage.write(page, json);
        return run(List.of("--dump-dom", page.toUri().toString()));
    }

    /** Runs headless Chromium with the flags that keep it off the network, bounded in time; returns its stdout. */
    String run(List<String> args) throws Exception {
        Path profile = Files.createTempDirectory(dir, "profile");
        List<String> command = new ArrayList<>(List.of(CHROMIUM.toString(), "--headless", "--no-sandbox",
                "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--user-data-dir=" + profile));
        command.addAll(args);
        Path out = Files.createTempFile(dir, "chromium", ".out");
        Path err = Files.createTempFile(dir, "chromium", ".err");
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(BROWSER_RUN.toSeconds(), TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            fail("chromium did not finish within " + BROWSER_RUN + ": " + command + "\n" + tail(err));
        }
        String stdout = Files.readString(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            fail("chromium exited with " + p.exitValue() + ": " + command + "\n" + tail(err));
        }
        return stdout;
    }

    static void ensureChromium() throws Exception {
        if (Files.isExecutable(CHROMIUM)) {
            return;
        }
        if (!isRoot()) {
            fail(CHROMIUM + " is missing and these tests do not run as root, so they cannot install it. Install"
                    + " Debian's chromium package (apt-get install -y chromium) and run the tests again.");
        }
        if (!Files.isExecutable(Path.of("/usr/bin/apt-get"))) {
            fail(CHROMIUM + " is missing and there is no apt-get to install Debian's chromium package with;"
                    + " install Chromium at " + CHROMIUM + " and run the tests again.");
        }
        String update = install(List.of("apt-get", "update", "-q"));
        String install = install(List.of("apt-get", "install", "-y", "-q", "-o", "DPkg::Lock::Timeout=300",
                "chromium"));
        if (!Files.isExecutable(CHROMIUM)) {
            fail("apt-get install chromium did not leave " + CHROMIUM + ":\n" + update + "\n" + install);
        }
    }

    private static String install(List<String> command) throws IOException, InterruptedException {
        Path log = Files.createTempFile("chromium-install", ".log");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
            Process p = pb.start();
            if (!p.waitFor(INSTALL_STEP.toSeconds(), TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                fail(String.join(" ", command) + " did not finish within " + INSTALL_STEP + ":\n" + tail(log));
            }
            String output = tail(log);
            if (p.exitValue() != 0) {
                fail(String.join(" ", command) + " failed with exit code " + p.exitValue()
                        + " while installing Chromium for the map page tests:\n" + output);
            }
            return output;
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static boolean isRoot() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return false;
        }
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip().equals("0");
    }

    // ---- reading the dumped DOM ----

    /** The outer HTML of the first {@code <tag ...>} whose start tag contains {@code attribute}, balanced by tag name. */
    static String element(String dom, String tag, String attribute) {
        Matcher start = Pattern.compile("<" + tag + "\\b[^>]*" + Pattern.quote(attribute) + "[^>]*>").matcher(dom);
        assertTrue(start.find(), () -> "no <" + tag + " " + attribute + "> in the rendered page:\n" + head(dom));
        Matcher tags = Pattern.compile("<(/?)" + tag + "\\b[^>]*>").matcher(dom);
        int depth = 0;
        tags.region(start.start(), dom.length());
        while (tags.find()) {
            depth += tags.group(1).isEmpty() ? 1 : -1;
            if (depth == 0) {
                return dom.substring(start.start(), tags.end());
            }
        }
        throw new AssertionError("unbalanced <" + tag + "> from " + attribute);
    }

    static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    private static String head(String dom) {
        return dom.length() > 3000 ? dom.substring(0, 3000) + "…" : dom;
    }

    private static String tail(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        return text.length() > 4000 ? "…" + text.substring(text.length() - 4000) : text;
    }
}
