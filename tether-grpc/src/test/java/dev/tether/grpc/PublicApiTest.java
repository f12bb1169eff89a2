package dev.tether.grpc;

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
 * The public API of tether-grpc, as listed in {@code src/test/resources/dev.tether.grpc.api}: a change to a public
 * type or member shows up in review as a change to that file. Regenerate it after a deliberate change with
 * {@code -Dtether.api.update=true}.
 */
class PublicApiTest {

    @Test
    void publicApiIsTheCommittedListing() throws Exception {
        Path listing = Path.of("src/test/resources/dev.tether.grpc.api");

        String actual = String.join("\n", publicApi()) + "\n";
        if (Boolean.getBoolean("tether.api.update")) {
            Files.writeString(listing, actual);
        }

        assertEquals(Files.readString(listing), actual, "public API changed: rerun with -Dtether.api.update=true "
                + "and commit " + listing + " if that was meant");
    }

    private static List<String> publicApi() throws Exception {
        Path classes = Path.of(TetherClientInterceptor.class.getProtectionDomain().getCodeSource().getLocation()
                .toURI()).resolve("dev/tether/grpc");
        TreeSet<String> typeNames = new TreeSet<>();
        try (Stream<Path> files = Files.list(classes)) {
            files.map(f -> f.getFileName().toString()).filter(f -> f.endsWith(".class"))
                    .forEach(f -> typeNames.add("dev.tether.grpc." + f.substring(0, f.length() - 6)));
        }
        List<String> lines = new ArrayList<>();
        for (String name : typeNames) {
            Class<?> type = Class.forName(name);
            if (!exported(type)) {
                continue;
            }
            lines.add(type.toGenericString());
            TreeSet<String> members = new TreeSet<>();
            for (Member m : type.getDeclaredFields()) {
                add(members, m, ((java.lang.reflect.Field) m).toGenericString());
            }
            for (Member m : type.getDeclaredConstructors()) {
                add(members, m, ((java.lang.reflect.Constructor<?>) m).toGenericString());
            }
            for (java.lang.reflect.Method m : type.getDeclaredMethods()) {
                if (!m.isBridge()) {
                    add(members, m, m.toGenericString());
                }
            }
            lines.addAll(members);
        }
        return lines;
    }

    private static void add(TreeSet<String> members, Member m, String text) {
        int mods = m.getModifiers();
        if (!m.isSynthetic() && (Modifier.isPublic(mods) || Modifier.isProtected(mods))) {
            members.add("  " + text);
        }
    }

    /** Public and, for a nested type, inside public types only. */
    private static boolean exported(Class<?> type) {
        for (Class<?> t = type; t != null; t = t.getEnclosingClass()) {
            if (!Modifier.isPublic(t.getModifiers()) || t.isAnonymousClass() || t.isLocalClass()) {
                return false;
            }
        }
        return true;
    }
}
