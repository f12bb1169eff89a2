package dev.tether.lint;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/** Tether's own main sources pass Tether's gate: the same CLI run CI users make, on this repository. */
class DogfoodTest {

    @Test
    void tetherCoreAndExamplesHaveNoFindings() throws Exception {
        Path jspecify = Path.of(Nullable.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path repository = Path.of("..").toAbsolutePath().normalize();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] args = Files.isDirectory(repository.resolve("tether-examples/src/main/java"))
                ? new String[] {"--classpath", jspecify.toString(), "--root", repository.toString(),
                        repository.resolve("tether-core/src/main/java").toString(),
                        repository.resolve("tether-examples/src/main/java").toString()}
                : new String[] {"--classpath", jspecify.toString(), "--root", repository.toString(),
                        repository.resolve("tether-core/src/main/java").toString()};

        int exit = LintMain.run(args, new PrintStream(out, true, UTF_8), new PrintStream(err, true, UTF_8));

        assertEquals(LintMain.OK, exit, out.toString(UTF_8) + err.toString(UTF_8));
    }
}
