package dev.tether.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Keeps a module's public API visible in review: its exported types and their public and protected members, one
 * per line in a stable order, compared with a listing committed under {@code src/test/resources}. Names and
 * signatures that other modules and users compile against must never change by accident; after a deliberate
 * change, rerun the test with {@code -Dtether.api.update=true} and commit the listing.
 *
 * {@snippet :
 * @Test
 * void publicApiMatchesTheCommittedListing() {
 *     ApiListing.check(TetherHandler.class, "dev.tether.jetty");   // src/test/resources/dev.tether.jetty.api
 * }
 * }
 */
public final class ApiListing {

    private ApiListing() {}

    /**
     * Compares the API of {@code packages} (found next to {@code anchor}'s class file) with
     * {@code src/test/resources/<first package>.api}, relative to the working directory (the module's, under
     * Maven); with {@code -Dtether.api.update=true} writes the listing first.
     *
     * @throws AssertionError naming the listing when the code and the listing differ
     */
    public static void check(Class<?> anchor, String... packages) {
        Objects.requireNonNull(anchor, "anchor must not be null");
        if (packages.length == 0) {
            throw new IllegalArgumentException("packages must name at least one package");
        }
        Path listing = Path.of("src/test/resources", packages[0] + ".api");
        String actual = String.join("\n", describe(anchor, packages)) + "\n";
        try {
            if (Boolean.getBoolean("tether.api.update")) {
                Files.writeString(listing, actual);
            }
            String expected = Files.exists(listing) ? Files.readString(listing) : "";
            if (!expected.equals(actual)) {
                throw new AssertionError("the public API changed; if that is intended, rerun with"
                        + " -Dtether.api.update=true and commit " + listing + "\n" + difference(expected, actual));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write " + listing, e);
        }
    }

    /** The listing's lines: each visible type, then its visible members, sorted. */
    public static List<String> describe(Class<?> anchor, String... packages) {
        Path classes;
        try {
            classes = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("anchor " + anchor.getName() + " has no class directory", e);
        }
        TreeSet<String> names = new TreeSet<>();
        for (String pkg : packages) {
            try (Stream<Path> files = Files.walk(classes.resolve(pkg.replace('.', '/')), 1)) {
                files.map(p -> p.getFileName().toString())
                        .filter(n -> n.endsWith(".class") && !n.equals("package-info.class"))
                        .forEach(n -> names.add(pkg + "." + n.substring(0, n.length() - ".class".length())));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list package " + pkg + " in " + classes, e);
            }
        }
        List<String> lines = new ArrayList<>();
        for (String name : names) {
            Class<?> type;
            try {
                type = Class.forName(name, false, anchor.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException("listed class not loadable: " + name, e);
            }
            if (!isVisible(type)) {
                continue;
            }
            lines.add(type.toGenericString());
            TreeSet<String> members = new TreeSet<>();
            for (Field f : type.getDeclaredFields()) {
                if (isVisible(f.getModifiers()) && !f.isSynthetic()) {
                    members.add("  " + f.toGenericString());
                }
            }
            for (Constructor<?> c : type.getDeclaredConstructors()) {
                if (isVisible(c.getModifiers()) && !c.isSynthetic()) {
                    members.add("  " + c.toGenericString());
                }
            }
            for (Method m : type.getDeclaredMethods()) {
                if (isVisible(m.getModifiers()) && !m.isSynthetic() && !m.isBridge()) {
                    members.add("  " + m.toGenericString());
                }
            }
            lines.addAll(members);
        }
        return lines;
    }

    /** The lines only one side has, so a failure says what changed without a diff tool. */
    private static String difference(String expected, String actual) {
        List<String> was = expected.lines().toList();
        List<String> now = actual.lines().toList();
        StringBuilder out = new StringBuilder();
        for (String line : was) {
            if (!now.contains(line)) {
                out.append("- ").append(line).append('\n');
            }
        }
        for (String line : now) {
            if (!was.contains(line)) {
                out.append("+ ").append(line).append('\n');
            }
        }
        return out.toString();
    }

    /** Public, and reachable: nested types count only when every enclosing type is public too. */
    private static boolean isVisible(Class<?> type) {
        for (Class<?> t = type; t != null; t = t.getEnclosingClass()) {
            if (!Modifier.isPublic(t.getModifiers()) || t.isAnonymousClass() || t.isLocalClass()) {
                return false;
            }
        }
        return true;
    }

    private static boolean isVisible(int modifiers) {
        return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
    }
}
