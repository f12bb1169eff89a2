package dev.tether.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Member;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps tether-otel's public API visible in review: the exported types and their public members are listed in
 * {@code src/test/resources/dev.tether.otel.api}, and this test fails when code and listing differ. After a
 * deliberate change, rerun with {@code -Dtether.api.update=true} and commit the listing.
 */
class PublicApiTest {

    @Test
    void publicApiMatchesTheCommittedListing() throws Exception {
        String actual = String.join("\n", api()) + "\n";
        Path listing = Path.of("src/test/resources/dev.tether.otel.api");

        if (Boolean.getBoolean("tether.api.update")) {
            Files.writeString(listing, actual);
        }

        assertEquals(Files.readString(listing), actual,
                "the public API changed; if that is intended, rerun with -Dtether.api.update=true and commit "
                        + listing);
    }

    private static List<String> api() throws Exception {
        Path classes = Path.of(TetherSpans.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        TreeSet<String> names = new TreeSet<>();
        try (Stream<Path> files = Files.list(classes.resolve("dev/tether/otel"))) {
            files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".class") && !n.equals("package-info.class"))
                    .forEach(n -> names.add("dev.tether.otel." + n.substring(0, n.length() - 6)));
        }
        List<String> lines = new ArrayList<>();
        for (String name : names) {
            Class<?> type = Class.forName(name, false, PublicApiTest.class.getClassLoader());
            if (!visible(type)) {
                continue;
            }
            lines.add(type.toGenericString());
            TreeSet<String> members = new TreeSet<>();
            List<Member> all = new ArrayList<>();
            all.addAll(List.of(type.getDeclaredFields()));
            all.addAll(List.of(type.getDeclaredConstructors()));
            all.addAll(List.of(type.getDeclaredMethods()));
            for (Member m : all) {
                boolean shown = (Modifier.isPublic(m.getModifiers()) || Modifier.isProtected(m.getModifiers()))
                        && !m.isSynthetic();
                if (shown) {
                    members.add("  " + (m instanceof java.lang.reflect.Field f ? f.toGenericString()
                            : m instanceof java.lang.reflect.Method meth ? meth.toGenericString()
                            : ((java.lang.reflect.Constructor<?>) m).toGenericString()));
                }
            }
            lines.addAll(members);
        }
        return lines;
    }

    /** Public, and every enclosing type public too. */
    private static boolean visible(Class<?> type) {
        for (Class<?> t = type; t != null; t = t.getEnclosingClass()) {
            if (!Modifier.isPublic(t.getModifiers()) || t.isAnonymousClass() || t.isLocalClass()) {
                return false;
            }
        }
        return true;
    }
}
