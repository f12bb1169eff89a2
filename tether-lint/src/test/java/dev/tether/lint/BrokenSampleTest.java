package dev.tether.lint;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.errorprone.CompilationTestHelper;
import com.google.errorprone.scanner.ScannerSupplier;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The deliberately broken sample: every rule fires, and the CLI reports exactly what the markers say. */
class BrokenSampleTest {

    static final Path ROOT = Path.of("src/test/resources/broken");
    static final Path SAMPLE = ROOT.resolve("sample/BrokenSample.java");
    private static final Pattern MARKER = Pattern.compile("// BUG: Diagnostic contains: (CTX\\d{3})");

    @Test
    void everyMarkerMatchesAFindingOfTheErrorPronePlugin() throws Exception {
        CompilationTestHelper.newInstance(ScannerSupplier.fromBugCheckerClasses(Checks.ALL), getClass())
                .addSourceLines("sample/BrokenSample.java", Files.readAllLines(SAMPLE, UTF_8).toArray(String[]::new))
                .doTest();
    }

    @Test
    void cliReportsExactlyTheMarkedFindingsAndEveryRule() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();

        int exit = LintMain.run(new String[] {"--root", ROOT.toString(), ROOT.toString()},
                new PrintStream(out, true, UTF_8), new PrintStream(err, true, UTF_8));

        assertEquals(LintMain.FINDINGS, exit, err.toString(UTF_8));
        Set<String> reported = new TreeSet<>();
        Matcher line = Pattern.compile("(?m)^sample/BrokenSample\\.java:(\\d+):\\d+: (CTX\\d{3}) ").matcher(out.toString(UTF_8));
        while (line.find()) {
            reported.add(line.group(2) + "@" + line.group(1));
        }
        assertEquals(markers(), reported, out.toString(UTF_8));
        Set<String> rules = new TreeSet<>();
        reported.forEach(r -> rules.add(r.substring(0, 6)));
        assertEquals(Checks.ALL.size(), rules.size(), "every rule fires: " + rules);
        assertTrue(out.toString(UTF_8).contains("tether-lint: " + reported.size() + " findings"), out.toString(UTF_8));
    }

    /** "CTX001@31" for a marker on line 30: the marker names the line after it. */
    static Set<String> markers() throws Exception {
        Set<String> markers = new TreeSet<>();
        List<String> lines = Files.readAllLines(SAMPLE, UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = MARKER.matcher(lines.get(i));
            if (m.find()) {
                markers.add(m.group(1) + "@" + (i + 2));
            }
        }
        return markers;
    }
}
