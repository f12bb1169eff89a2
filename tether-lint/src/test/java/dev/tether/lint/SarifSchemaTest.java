package dev.tether.lint;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI's SARIF is valid against the official SARIF 2.1.0 JSON schema, with and without a baseline. The schema
 * is fetched by {@code tether-lint/fetch-sarif-schema.sh} (CI runs it before the build); without it these tests
 * are skipped, never passed.
 */
class SarifSchemaTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static JsonSchema schema;

    @TempDir
    Path dir;

    @BeforeAll
    static void loadSchema() throws Exception {
        Path file = Path.of(System.getProperty("tether.sarif.schema", "target/sarif-schema/sarif-2.1.0-rtm.5.json"));
        assumeTrue(Files.isRegularFile(file),
                "no SARIF schema at " + file + ": run tether-lint/fetch-sarif-schema.sh first");
        try (InputStream in = Files.newInputStream(file)) {
            schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4).getSchema(in);
        }
    }

    @Test
    void sarifOfTheBrokenSampleIsValid() throws Exception {
        Path sarif = dir.resolve("out.sarif");

        int exit = lint("--root", BrokenSampleTest.ROOT.toString(), "--sarif", sarif.toString(),
                BrokenSampleTest.ROOT.toString());

        assertEquals(LintMain.FINDINGS, exit);
        JsonNode log = JSON.readTree(sarif.toFile());
        assertEquals(12, log.at("/runs/0/results").size(), "one finding per rule in the broken sample");
        assertEquals(Set.of(), schema.validate(log));
    }

    @Test
    void sarifWithABaselineIsValid() throws Exception {
        Path baseline = dir.resolve("lint.baseline");
        Path sarif = dir.resolve("out.sarif");
        String root = BrokenSampleTest.ROOT.toString();
        assertEquals(LintMain.OK, lint("--root", root, "--write-baseline", baseline.toString(), root));

        int exit = lint("--root", root, "--baseline", baseline.toString(), "--sarif", sarif.toString(), root);

        assertEquals(LintMain.OK, exit);
        JsonNode log = JSON.readTree(sarif.toFile());
        assertEquals("unchanged", log.at("/runs/0/results/0/baselineState").asText());
        assertEquals(Set.of(), schema.validate(log));
    }

    /** The check can fail: the same log with a result missing its required message is rejected. */
    @Test
    void schemaRejectsAResultWithoutAMessage() throws Exception {
        Path sarif = dir.resolve("out.sarif");
        lint("--root", BrokenSampleTest.ROOT.toString(), "--sarif", sarif.toString(), BrokenSampleTest.ROOT.toString());
        JsonNode log = JSON.readTree(sarif.toFile());
        ((ObjectNode) log.at("/runs/0/results/0")).remove("message");
        ((ObjectNode) log).put("version", "2.0.0");

        Set<ValidationMessage> errors = schema.validate(log);

        assertFalse(errors.isEmpty());
        assertTrue(errors.stream().anyMatch(e -> e.getMessage().contains("message")), errors::toString);
        assertTrue(errors.stream().anyMatch(e -> e.getMessage().contains("version")), errors::toString);
    }

    private static int lint(String... args) {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        return LintMain.run(args, new PrintStream(sink, true, UTF_8), new PrintStream(sink, true, UTF_8));
    }
}
