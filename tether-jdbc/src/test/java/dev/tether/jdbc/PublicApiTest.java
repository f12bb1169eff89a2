package dev.tether.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps the public API visible in review: the exported types and members are listed in
 * {@code src/test/resources/dev.tether.jdbc.api}, and this test fails when the code and the listing differ. Names and
 * signatures that other modules and users compile against must never change by accident; after a deliberate
 * addition, regenerate the listing with {@code -Dtether.api.update=true} and commit it.
 */
class PublicApiTest {

    @Test
    void publicApiMatchesTheCommittedListing() throws Exception {
        String actual = String.join("\n", describeApi()) + "\n";
        Path listing = Path.of("src/test/resources/dev.tether.jdbc.api");

        if (Boolean.getBoolean("tether.api.update")) {
            Files.writeString(listing, actual);
        }

        assertEquals(Files.readString(listing), actual,
                "the public API changed; if that is intended, rerun with -Dtether.api.update=true and commit "
                        + listing);
    }

    private static List<String> describeApi() throws IOException, URISyntaxException, ClassNotFoundException {
        Path classes = Path.of(TetherDataSource.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> lines = new ArrayList<>();
        TreeSet<String> names = new TreeSet<>();
        try (Stream<Path> files = Files.walk(classes.resolve("dev/tether/jdbc"), 1)) {
            files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".class"))
                    .forEach(n -> names.add("dev.tether.jdbc." + n.substring(0, n.length() - ".class".length())));
        }
        for (String name : names) {
            Class<?> type = Class.forName(name);
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
