package dev.tether.lint;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CI command: exit codes, SARIF shape, baselines. The SARIF is checked field by field here, and against the
 * official SARIF 2.1.0 schema in {@link SarifSchemaTest}.
 */
class LintMainTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int lint(String... args) {
        out.reset();
        err.reset();
        return LintMain.run(args, new PrintStream(out, true, UTF_8), new PrintStream(err, true, UTF_8));
    }

    @Test
    void brokenSampleWritesSarifWithRulesResultsLocationsAndFingerprints() throws Exception {
        Path sarif = dir.resolve("out.sarif");

        int exit = lint("--root", BrokenSampleTest.ROOT.toString(), "--sarif", sarif.toString(),
                BrokenSampleTest.ROOT.toString());

        assertEquals(LintMain.FINDINGS, exit, err.toString(UTF_8));
        JsonObject log = JsonParser.parseString(Files.readString(sarif)).getAsJsonObject();
        assertEquals("2.1.0", log.get("version").getAsString());
        assertTrue(log.get("$schema").getAsString().contains("sarif-2.1.0"));
        JsonObject run = log.getAsJsonArray("runs").get(0).getAsJsonObject();
        JsonObject driver = run.getAsJsonObject("tool").getAsJsonObject("driver");
        assertEquals("tether-lint", driver.get("name").getAsString());
        Set<String> ruleIds = new HashSet<>();
        for (JsonElement rule : driver.getAsJsonArray("rules")) {
            String id = rule.getAsJsonObject().get("id").getAsString();
            assertTrue(id.matches("CTX0(0[1-9]|1[0-2])"), id);
            assertFalse(rule.getAsJsonObject().getAsJsonObject("shortDescription").get("text").getAsString().isEmpty());
            ruleIds.add(id);
        }
        assertEquals(12, ruleIds.size());
        JsonArray results = run.getAsJsonArray("results");
        assertEquals(BrokenSampleTest.markers().size(), results.size());
        Set<String> fingerprints = new HashSet<>();
        for (JsonElement element : results) {
            JsonObject result = element.getAsJsonObject();
            assertTrue(ruleIds.contains(result.get("ruleId").getAsString()));
            assertFalse(result.getAsJsonObject("message").get("text").getAsString().isBlank());
            JsonObject location = result.getAsJsonArray("locations").get(0).getAsJsonObject()
                    .getAsJsonObject("physicalLocation");
            assertEquals("sample/BrokenSample.java",
                    location.getAsJsonObject("artifactLocation").get("uri").getAsString());
            assertEquals("SRCROOT", location.getAsJsonObject("artifactLocation").get("uriBaseId").getAsString());
            assertTrue(location.getAsJsonObject("region").get("startLine").getAsInt() >= 1);
            assertTrue(location.getAsJsonObject("region").get("startColumn").getAsInt() >= 1);
            String fingerprint = result.getAsJsonObject("partialFingerprints").get(Sarif.FINGERPRINT_KEY).getAsString();
            assertTrue(fingerprints.add(fingerprint), "fingerprints are unique: " + fingerprint);
        }
        assertTrue(run.getAsJsonObject("originalUriBaseIds").getAsJsonObject("SRCROOT").get("uri").getAsString()
                .startsWith("file:"));
    }

    @Test
    void cleanCodeExitsZeroAndWritesAnEmptyResultList() throws Exception {
        Path source = write("Clean.java", """
                import dev.tether.*;
                import java.time.Duration;
                class Clean {
                    String load(Context ctx) throws Exception {
                        try (CancellableContext call = ctx.withTimeout(Duration.ofSeconds(1))) {
                            return call.call(() -> "x");
                        }
                    }
                }
                """);
        Path sarif = dir.resolve("clean.sarif");

        int exit = lint("--sarif", sarif.toString(), source.toString());

        assertEquals(LintMain.OK, exit, err.toString(UTF_8));
        assertTrue(out.toString(UTF_8).contains("no findings in 1 files"), out.toString(UTF_8));
        JsonObject run = JsonParser.parseString(Files.readString(sarif)).getAsJsonObject()
                .getAsJsonArray("runs").get(0).getAsJsonObject();
        assertEquals(0, run.getAsJsonArray("results").size());
    }

    @Test
    void baselineTurnsKnownFindingsIntoNonFailingOnesAndStillFailsOnNewOnes() throws Exception {
        Path source = write("Old.java", """
                class Old {
                    void run(dev.tether.Context ctx) { ctx.withCancel(); }
                }
                """);
        Path baseline = dir.resolve("tether-lint.baseline");

        assertEquals(LintMain.OK, lint("--root", dir.toString(), "--write-baseline", baseline.toString(),
                source.toString()));
        Path sarif = dir.resolve("b.sarif");
        int known = lint("--root", dir.toString(), "--baseline", baseline.toString(), "--sarif", sarif.toString(),
                source.toString());
        String knownOutput = out.toString(UTF_8);
        Files.writeString(source, """
                class Old {
                    // an edit above moves the old finding; it must still match the baseline
                    void run(dev.tether.Context ctx) { ctx.withCancel(); }
                    void more(dev.tether.Context ctx) { ctx.withTimeout(java.time.Duration.ZERO); }
                }
                """);
        int fresh = lint("--root", dir.toString(), "--baseline", baseline.toString(), source.toString());

        assertEquals(LintMain.OK, known, knownOutput);
        assertTrue(knownOutput.contains("1 findings (0 new, 1 in baseline)"), knownOutput);
        assertTrue(Files.readString(sarif).contains("\"baselineState\": \"unchanged\""));
        assertEquals(LintMain.FINDINGS, fresh, out.toString(UTF_8));
        assertTrue(out.toString(UTF_8).contains("2 findings (1 new, 1 in baseline)"), out.toString(UTF_8));
    }

    @Test
    void compilationErrorsExitTwoWithTheCompilersMessage() throws Exception {
        Path source = write("Broken.java", "class Broken { void run() { undefined(); } }\n");

        int exit = lint(source.toString());

        assertEquals(LintMain.ERROR, exit);
        assertTrue(err.toString(UTF_8).contains("cannot find symbol"), err.toString(UTF_8));
    }

    @Test
    void usageErrorsExitTwo() {
        assertEquals(LintMain.ERROR, lint());
        assertEquals(LintMain.ERROR, lint(dir.resolve("missing").toString()));
        assertEquals(LintMain.ERROR, lint("--frobnicate", dir.toString()));
        assertEquals(LintMain.ERROR, lint("--sarif"));
        assertTrue(err.toString(UTF_8).contains("usage:"), err.toString(UTF_8));
    }

    @Test
    void checkOptionsPassThrough() throws Exception {
        Path source = write("p/Holder.java", """
                package p;
                class Holder { dev.tether.Context ctx; }
                """);

        assertEquals(LintMain.FINDINGS, lint(source.toString()));
        assertEquals(LintMain.OK, lint("-XepOpt:CTX007:AllowedClasses=p.Holder", source.toString()),
                out.toString(UTF_8) + err.toString(UTF_8));
    }

    private Path write(String name, String text) throws Exception {
        Path file = dir.resolve(name);
        Files.createDirectories(file.getParent());
        return Files.writeString(file, text);
    }
}
