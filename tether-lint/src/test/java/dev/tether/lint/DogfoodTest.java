package dev.tether.lint;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * Tether's own main sources pass Tether's gate: the same CLI run CI users make, on this repository. tether-examples
 * uses Jetty, gRPC, OpenTelemetry and more, so its sources are compiled against the class path its build writes to
 * {@code tether-examples/target/compile.classpath}; this module depends on tether-examples (without its
 * dependencies) only so that the reactor builds it first.
 */
class DogfoodTest {

    @Test
    void tetherCoreAndExamplesHaveNoFindings() throws Exception {
        Path jspecify = Path.of(Nullable.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path repository = Path.of("..").toAbsolutePath().normalize();
        Path examples = repository.resolve("tether-examples");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] args;
        if (Files.isDirectory(examples.resolve("src/main/java"))) {
            Path classpathFile = examples.resolve("target/compile.classpath");
            assertTrue(Files.isRegularFile(classpathFile), classpathFile + " is missing: build tether-examples first"
                    + " (./mvnw -pl tether-lint -am verify does)");
            String classpath = jspecify + File.pathSeparator + Files.readString(classpathFile, UTF_8).strip();
            args = new String[] {"--classpath", classpath, "--root", repository.toString(),
                    repository.resolve("tether-core/src/main/java").toString(),
                    examples.resolve("src/main/java").toString()};
        } else {
            args = new String[] {"--classpath", jspecify.toString(), "--root", repository.toString(),
                    repository.resolve("tether-core/src/main/java").toString()};
        }

        int exit = LintMain.run(args, new PrintStream(out, true, UTF_8), new PrintStream(err, true, UTF_8));

        assertEquals(LintMain.OK, exit, out.toString(UTF_8) + err.toString(UTF_8));
    }
}
