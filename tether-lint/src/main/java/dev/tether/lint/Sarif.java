package dev.tether.lint;

import com.google.errorprone.BugPattern;
import com.google.errorprone.bugpatterns.BugChecker;
import java.util.List;
import java.util.Set;

/** Writes SARIF 2.1.0 by hand: the format is small and the jar should not carry a JSON library for it. */
final class Sarif {

    static final String FINGERPRINT_KEY = "tetherLint/v1";

    private Sarif() {}

    static String write(String version, String rootUri, List<Finding> findings, Set<String> baseline,
            boolean withBaseline) {
        StringBuilder out = new StringBuilder(4096);
        out.append("{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n")
                .append("  \"version\": \"2.1.0\",\n  \"runs\": [{\n    \"tool\": {\"driver\": {\n")
                .append("      \"name\": \"tether-lint\",\n      \"version\": ").append(string(version)).append(",\n")
                .append("      \"informationUri\": \"https://github.com/tether-dev/tether/tree/main/tether-lint\",\n")
                .append("      \"rules\": [");
        List<Class<? extends BugChecker>> checks = Checks.ALL;
        for (int i = 0; i < checks.size(); i++) {
            BugPattern pattern = checks.get(i).getAnnotation(BugPattern.class);
            out.append(i == 0 ? "\n" : ",\n")
                    .append("        {\"id\": ").append(string(pattern.name()))
                    .append(", \"name\": ").append(string(pattern.altNames()[0]))
                    .append(", \"shortDescription\": {\"text\": ").append(string(pattern.summary())).append("}")
                    .append(", \"defaultConfiguration\": {\"level\": \"warning\"}}");
        }
        out.append("\n      ]\n    }},\n")
                .append("    \"originalUriBaseIds\": {\"SRCROOT\": {\"uri\": ").append(string(rootUri)).append("}},\n")
                .append("    \"results\": [");
        for (int i = 0; i < findings.size(); i++) {
            Finding f = findings.get(i);
            out.append(i == 0 ? "\n" : ",\n")
                    .append("      {\"ruleId\": ").append(string(f.ruleId()))
                    .append(", \"ruleIndex\": ").append(ruleIndex(f.ruleId()))
                    .append(", \"level\": \"warning\"")
                    .append(", \"message\": {\"text\": ").append(string(f.message())).append("},\n")
                    .append("       \"locations\": [{\"physicalLocation\": {")
                    .append("\"artifactLocation\": {\"uri\": ").append(string(f.path()))
                    .append(", \"uriBaseId\": \"SRCROOT\"}, ")
                    .append("\"region\": {\"startLine\": ").append(f.line())
                    .append(", \"startColumn\": ").append(f.column()).append("}}}],\n")
                    .append("       \"partialFingerprints\": {").append(string(FINGERPRINT_KEY)).append(": ")
                    .append(string(f.fingerprint())).append("}");
            if (withBaseline) {
                out.append(", \"baselineState\": ")
                        .append(baseline.contains(f.fingerprint()) ? "\"unchanged\"" : "\"new\"");
            }
            out.append("}");
        }
        out.append(findings.isEmpty() ? "]\n" : "\n    ]\n").append("  }]\n}\n");
        return out.toString();
    }

    private static int ruleIndex(String ruleId) {
        for (int i = 0; i < Checks.ALL.size(); i++) {
            if (Checks.ALL.get(i).getAnnotation(BugPattern.class).name().equals(ruleId)) {
                return i;
            }
        }
        return -1;
    }

    static String string(String s) {
        StringBuilder out = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
