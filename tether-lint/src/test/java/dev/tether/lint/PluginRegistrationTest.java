package dev.tether.lint;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.errorprone.BugPattern;
import com.google.errorprone.bugpatterns.BugChecker;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** javac's -Xplugin:ErrorProne finds the checks through ServiceLoader, which needs public no-arg constructors. */
class PluginRegistrationTest {

    @Test
    void serviceLoaderInstantiatesEveryCheck() {
        Set<String> loaded = new TreeSet<>();
        for (BugChecker check : ServiceLoader.load(BugChecker.class)) {
            if (check.getClass().getPackageName().equals("dev.tether.lint")) {
                loaded.add(check.getClass().getName());
            }
        }

        Set<String> expected = new TreeSet<>();
        Checks.ALL.forEach(c -> expected.add(c.getName()));
        assertEquals(expected, loaded);
    }

    @Test
    void ruleIdsAreCtx001ToCtx012InOrder() {
        List<String> ids = Checks.ALL.stream().map(c -> c.getAnnotation(BugPattern.class).name()).toList();

        assertEquals(List.of("CTX001", "CTX002", "CTX003", "CTX004", "CTX005", "CTX006", "CTX007", "CTX008",
                "CTX009", "CTX010", "CTX011", "CTX012"), ids);
    }
}
