package dev.tether.lint;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.errorprone.BaseErrorProneJavaCompiler;
import com.google.errorprone.scanner.ScannerSupplier;
import dev.tether.Context;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import org.jspecify.annotations.Nullable;

/**
 * The CI command: compiles the given sources with javac and only Tether's checks, prints a summary, writes SARIF
 * 2.1.0, and exits 0 when there is no new finding, 1 when there are, 2 on a usage or compilation error.
 *
 * {@snippet lang=shell :
 * java -jar tether-lint-<version>-cli.jar [--classpath CP] [--sarif FILE] [--baseline FILE] PATH...
 * # adopt gradually: record today's findings, then fail only on new ones
 * java -jar tether-lint-<version>-cli.jar --classpath CP --write-baseline tether-lint.baseline src/main/java
 * java -jar tether-lint-<version>-cli.jar --classpath CP --baseline tether-lint.baseline src/main/java
 * }
 *
 * <p>Tether's core API comes from the jar itself unless {@code --classpath} already has it. Paths in the output
 * are relative to {@code --root} (default: the working directory). Options of the checks pass through as
 * {@code -XepOpt:NAME=VALUE}, e.g. {@code -XepOpt:CTX007:AllowedClasses=com.acme.RequestScope}.
 */
public final class LintMain {

    static final int OK = 0;
    static final int FINDINGS = 1;
    static final int ERROR = 2;

    private static final String USAGE = """
            usage: java -jar tether-lint-<version>-cli.jar [options] PATH...
              PATH                    a .java file, or a directory searched for them
              --classpath CP          classpath the sources compile against (Tether's core is added if missing)
              --sarif FILE            write SARIF 2.1.0 to FILE
              --baseline FILE         findings whose fingerprint is in FILE are reported but are not new
              --write-baseline FILE   write every current finding's fingerprint to FILE and exit 0
              --root DIR              paths in reports are relative to DIR (default: working directory)
              --release N             compile for Java release N (default: the running JDK's)
              -XepOpt:NAME=VALUE      an option for a check, e.g. -XepOpt:CTX007:AllowedClasses=a.B,c.*
            exit: 0 no new finding, 1 new findings, 2 usage or compilation error
            """;

    private static final Pattern CHECK_MESSAGE = Pattern.compile("^\\[(CTX\\d{3})\\] (.*)$");

    private LintMain() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one analysis; returns the exit code instead of exiting, for tests. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        try {
            return new Run(out, err).execute(args);
        } catch (UsageException e) {
            err.println("tether-lint: " + e.getMessage());
            err.print(USAGE);
            return ERROR;
        } catch (IOException | UncheckedIOException e) {
            err.println("tether-lint: " + e.getMessage());
            return ERROR;
        }
    }

    private static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    private static final class Run {
        private final PrintStream out;
        private final PrintStream err;
        private final List<Path> temporary = new ArrayList<>();

        Run(PrintStream out, PrintStream err) {
            this.out = out;
            this.err = err;
        }

        int execute(String[] args) throws UsageException, IOException {
            String classpath = "";
            Path sarif = null;
            Path baselineFile = null;
            Path writeBaseline = null;
            Path root = Path.of("").toAbsolutePath();
            String release = null;
            List<String> checkOptions = new ArrayList<>();
            List<Path> paths = new ArrayList<>();
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                switch (arg) {
                    case "--classpath", "-classpath", "-cp", "--class-path" -> classpath = value(args, ++i, arg);
                    case "--sarif" -> sarif = Path.of(value(args, ++i, arg));
                    case "--baseline" -> baselineFile = Path.of(value(args, ++i, arg));
                    case "--write-baseline" -> writeBaseline = Path.of(value(args, ++i, arg));
                    case "--root" -> root = Path.of(value(args, ++i, arg)).toAbsolutePath();
                    case "--release" -> release = value(args, ++i, arg);
                    case "-h", "--help" -> {
                        out.print(USAGE);
                        return OK;
                    }
                    default -> {
                        if (arg.startsWith("-XepOpt:")) {
                            checkOptions.add(arg);
                        } else if (arg.startsWith("-")) {
                            throw new UsageException("unknown option " + arg);
                        } else {
                            paths.add(Path.of(arg));
                        }
                    }
                }
            }
            if (paths.isEmpty()) {
                throw new UsageException("no PATH given");
            }
            root = root.normalize();
            List<Path> sources = sources(paths);
            if (sources.isEmpty()) {
                throw new UsageException("no .java files under " + paths);
            }
            Set<String> baseline = baselineFile == null ? Set.of() : readBaseline(baselineFile);

            long started = System.nanoTime();
            try {
                List<Finding> findings = analyse(sources, classpath, release, checkOptions, root);
                if (findings == null) {
                    return ERROR;
                }
                double seconds = (System.nanoTime() - started) / 1e9;
                if (sarif != null) {
                    Files.writeString(sarif, Sarif.write(version(), root.toUri().toString(), findings, baseline,
                            baselineFile != null), UTF_8);
                }
                if (writeBaseline != null) {
                    writeBaseline(writeBaseline, findings);
                    out.printf(Locale.ROOT, "tether-lint: wrote %d fingerprints to %s%n", findings.size(),
                            writeBaseline);
                    return OK;
                }
                return summarize(findings, baseline, sources.size(), seconds);
            } finally {
                for (Path path : temporary) {
                    deleteRecursively(path);
                }
            }
        }

        private static String value(String[] args, int i, String option) throws UsageException {
            if (i >= args.length) {
                throw new UsageException(option + " needs a value");
            }
            return args[i];
        }

        private static List<Path> sources(List<Path> paths) throws UsageException, IOException {
            Set<Path> sources = new LinkedHashSet<>();
            for (Path path : paths) {
                if (Files.isDirectory(path)) {
                    try (Stream<Path> walk = Files.walk(path)) {
                        walk.filter(p -> isSource(p) && Files.isRegularFile(p))
                                .sorted()
                                .forEach(p -> sources.add(p.toAbsolutePath().normalize()));
                    }
                } else if (Files.isRegularFile(path) && path.toString().endsWith(".java")) {
                    if (isSource(path)) {
                        sources.add(path.toAbsolutePath().normalize());
                    }
                } else {
                    throw new UsageException(path + " is neither a .java file nor a directory");
                }
            }
            return List.copyOf(sources);
        }

        /**
         * Module descriptors are left out: the analysis compiles every source in the unnamed module, so that a
         * --classpath works for modular and plain projects alike.
         */
        private static boolean isSource(Path path) {
            String name = path.getFileName().toString();
            return name.endsWith(".java") && !name.equals("module-info.java");
        }

        /** Compiles with only Tether's checks; returns null after printing the compiler's errors. */
        private @Nullable List<Finding> analyse(List<Path> sources, String classpath, @Nullable String release,
                List<String> checkOptions, Path root) throws IOException {
            JavaCompiler compiler = new BaseErrorProneJavaCompiler(ScannerSupplier.fromBugCheckerClasses(Checks.ALL));
            DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
            Path classes = Files.createTempDirectory("tether-lint-classes");
            temporary.add(classes);
            List<String> options = new ArrayList<>(List.of(
                    "-XDcompilePolicy=simple", "--should-stop=ifError=FLOW", "-proc:none", "-implicit:none",
                    "-encoding", "UTF-8", "-Xmaxwarns", "1000000", "-Xmaxerrs", "1000",
                    "-d", classes.toString(), "-classpath", withTetherCore(classpath)));
            if (release != null) {
                options.addAll(List.of("--release", release));
            }
            options.addAll(checkOptions);
            boolean compiled;
            try (StandardJavaFileManager files = compiler.getStandardFileManager(diagnostics, Locale.ROOT, UTF_8)) {
                Iterable<? extends JavaFileObject> units = files.getJavaFileObjectsFromPaths(sources);
                try {
                    compiled = compiler.getTask(null, files, diagnostics, options, null, units).call();
                } catch (RuntimeException e) {
                    err.println("tether-lint: the compiler failed: " + e);
                    return null;
                }
            }
            List<Finding> findings = new ArrayList<>();
            List<Diagnostic<? extends JavaFileObject>> errors = new ArrayList<>();
            Map<Path, List<String>> lines = new HashMap<>();
            Map<String, Integer> occurrences = new HashMap<>();
            for (Diagnostic<? extends JavaFileObject> diagnostic : diagnostics.getDiagnostics()) {
                String message = diagnostic.getMessage(Locale.ROOT);
                Matcher check = CHECK_MESSAGE.matcher(message.lines().findFirst().orElse(""));
                if (check.matches() && diagnostic.getSource() != null) {
                    Path file = Path.of(diagnostic.getSource().toUri()).toAbsolutePath().normalize();
                    String path = relative(root, file);
                    List<String> text = lines.computeIfAbsent(file, LintMain::readLines);
                    long line = diagnostic.getLineNumber();
                    String lineText = line >= 1 && line <= text.size() ? text.get((int) line - 1).strip() : "";
                    String key = check.group(1) + '\0' + path + '\0' + lineText;
                    int occurrence = occurrences.merge(key, 1, Integer::sum);
                    findings.add(new Finding(check.group(1), path, line, diagnostic.getColumnNumber(),
                            check.group(2), fingerprint(key + '\0' + occurrence)));
                } else if (diagnostic.getKind() == Diagnostic.Kind.ERROR) {
                    errors.add(diagnostic);
                }
            }
            if (!compiled || !errors.isEmpty()) {
                err.println("tether-lint: the sources do not compile; fix these errors or the --classpath:");
                for (Diagnostic<? extends JavaFileObject> error : errors) {
                    String where = error.getSource() == null ? ""
                            : relative(root, Path.of(error.getSource().toUri())) + ":" + error.getLineNumber() + ": ";
                    err.println(where + "error: " + error.getMessage(Locale.ROOT));
                }
                return null;
            }
            findings.sort(Comparator.comparing(Finding::path).thenComparingLong(Finding::line)
                    .thenComparingLong(Finding::column).thenComparing(Finding::ruleId));
            return findings;
        }

        private int summarize(List<Finding> findings, Set<String> baseline, int files, double seconds) {
            int fresh = 0;
            for (Finding f : findings) {
                boolean known = baseline.contains(f.fingerprint());
                if (!known) {
                    fresh++;
                }
                out.printf(Locale.ROOT, "%s:%d:%d: %s %s%s%n", f.path(), f.line(), f.column(), f.ruleId(),
                        f.message(), known ? " [baseline]" : "");
            }
            if (findings.isEmpty()) {
                out.printf(Locale.ROOT, "tether-lint: no findings in %d files (%.1f s)%n", files, seconds);
            } else {
                out.printf(Locale.ROOT, "tether-lint: %d findings (%d new, %d in baseline) in %d files (%.1f s)%n",
                        findings.size(), fresh, findings.size() - fresh, files, seconds);
            }
            return fresh == 0 ? OK : FINDINGS;
        }

        /** The user's classpath, plus Tether's core API from this jar unless the classpath already has it. */
        private String withTetherCore(String classpath) throws IOException {
            for (String entry : classpath.split(File.pathSeparator)) {
                if (!entry.isEmpty() && hasContext(Path.of(entry))) {
                    return classpath;
                }
            }
            Path core;
            try {
                core = Path.of(Context.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            } catch (URISyntaxException | RuntimeException e) {
                return classpath;
            }
            if (Files.isRegularFile(core)) {
                try (ZipFile jar = new ZipFile(core.toFile())) {
                    if (jar.getEntry("dev/tether/lint/LintMain.class") != null) {
                        core = extractCore(jar); // the CLI jar: hand javac the API, not Error Prone and Guava
                    }
                }
            }
            return classpath.isEmpty() ? core.toString() : classpath + File.pathSeparator + core;
        }

        private Path extractCore(ZipFile jar) throws IOException {
            Path dir = Files.createTempDirectory("tether-lint-core");
            temporary.add(dir);
            for (ZipEntry entry : java.util.Collections.list(jar.entries())) {
                String name = entry.getName();
                boolean api = (name.startsWith("dev/tether/") && !name.startsWith("dev/tether/lint/"))
                        || name.startsWith("org/jspecify/");
                if (api && !entry.isDirectory() && name.endsWith(".class")) {
                    Path target = dir.resolve(name);
                    Files.createDirectories(target.getParent());
                    try (InputStream in = jar.getInputStream(entry)) {
                        Files.copy(in, target);
                    }
                }
            }
            return dir;
        }

        private static boolean hasContext(Path entry) {
            if (Files.isDirectory(entry)) {
                return Files.isRegularFile(entry.resolve("dev/tether/Context.class"));
            }
            if (Files.isRegularFile(entry)) {
                try (ZipFile jar = new ZipFile(entry.toFile())) {
                    return jar.getEntry("dev/tether/Context.class") != null;
                } catch (IOException e) {
                    return false;
                }
            }
            return false;
        }
    }

    static Set<String> readBaseline(Path file) throws IOException {
        Set<String> fingerprints = new LinkedHashSet<>();
        for (String line : Files.readAllLines(file, UTF_8)) {
            String trimmed = line.strip();
            if (!trimmed.isEmpty() && !trimmed.startsWith("#")) {
                fingerprints.add(trimmed.split("\\s+", 2)[0]);
            }
        }
        return fingerprints;
    }

    private static void writeBaseline(Path file, List<Finding> findings) throws IOException {
        StringBuilder text = new StringBuilder("""
                # tether-lint baseline: findings listed here are reported but do not fail the build.
                # One line per finding: fingerprint, rule, where it was when recorded. Delete lines as you fix them.
                """);
        for (Finding f : findings) {
            text.append(f.fingerprint()).append(' ').append(f.ruleId()).append(' ')
                    .append(f.path()).append(':').append(f.line()).append('\n');
        }
        Files.writeString(file, text, UTF_8);
    }

    private static List<String> readLines(Path file) {
        try {
            return Files.readAllLines(file, UTF_8);
        } catch (IOException e) {
            return List.of();
        }
    }

    private static String relative(Path root, Path file) {
        Path absolute = file.toAbsolutePath().normalize();
        if (absolute.startsWith(root)) {
            return root.relativize(absolute).toString().replace(File.separatorChar, '/');
        }
        return absolute.toUri().toString();
    }

    private static String fingerprint(String key) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(key.getBytes(UTF_8));
            return HexFormat.of().formatHex(hash, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String version() {
        String version = LintMain.class.getPackage().getImplementationVersion();
        return version == null ? "dev" : version;
    }

    private static void deleteRecursively(Path path) {
        try (Stream<Path> walk = Files.walk(path)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: a temporary directory left behind is not worth failing the analysis for
        }
    }
}
