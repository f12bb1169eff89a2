package dev.tether.junit;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.Scope;
import dev.tether.leak.LeakDetector;
import dev.tether.leak.LeakReport;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;
import org.jspecify.annotations.Nullable;

/**
 * The extension behind {@link TetherLeakCheck}; register it with {@code @TetherLeakCheck} or
 * {@code @ExtendWith(TetherExtension.class)}. See {@link TetherLeakCheck} for what it does and how it is set up.
 *
 * <p>Before each test it makes the test's root context ({@code Context.background().withCancel()}, labelled with
 * the test's name in reports); while the test method runs the root is attached; after each test (and its
 * {@code @AfterEach} methods) it cancels the root, waits with back-off for the root's subtree to have no task
 * running, and throws an {@link AssertionError} carrying the leak report if one still runs.
 */
public final class TetherExtension
        implements BeforeEachCallback, AfterEachCallback, ParameterResolver, InvocationInterceptor {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(TetherExtension.class);

    /** Made by JUnit. */
    public TetherExtension() {}

    /** A test's root context and the detector watching it. */
    private record TestRoot(CancellableContext root, LeakDetector detector, Settings settings, String name) {}

    /** A detector this extension installed because none was; closed with the engine's root context. */
    private record OwnedDetector(LeakDetector detector) implements AutoCloseable {
        @Override
        public void close() {
            detector.close();
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        LeakDetector detector = detector(context);
        Settings settings = Settings.of(context::getConfigurationParameter, annotated(context));
        String name = testName(context);
        CancellableContext root = Context.background().withCancel();
        detector.label(root, "test " + name);
        context.getStore(NAMESPACE).put(TestRoot.class, new TestRoot(root, detector, settings, name));
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == Context.class || type == CancellableContext.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        TestRoot test = context.getStore(NAMESPACE).get(TestRoot.class, TestRoot.class);
        if (test == null || context.getTestMethod().isEmpty()) {
            throw new ParameterResolutionException("TetherExtension gives each test its own root context; "
                    + parameter.getParameter() + " of " + parameter.getDeclaringExecutable()
                    + " is outside a test (a constructor or @BeforeAll/@AfterAll method?): take it in the test,"
                    + " @BeforeEach or @AfterEach method instead");
        }
        return test.root();
    }

    @Override
    public void interceptTestMethod(Invocation<@Nullable Void> invocation,
            ReflectiveInvocationContext<Method> invocationContext, ExtensionContext context) throws Throwable {
        proceedAttached(invocation, context);
    }

    @Override
    public void interceptTestTemplateMethod(Invocation<@Nullable Void> invocation,
            ReflectiveInvocationContext<Method> invocationContext, ExtensionContext context) throws Throwable {
        proceedAttached(invocation, context);
    }

    @SuppressWarnings("try") // the scope is used for its close()
    private static void proceedAttached(Invocation<@Nullable Void> invocation, ExtensionContext context)
            throws Throwable {
        TestRoot test = context.getStore(NAMESPACE).get(TestRoot.class, TestRoot.class);
        if (test == null) {
            invocation.proceed();
            return;
        }
        try (Scope scope = test.root().attach()) {
            invocation.proceed();
        }
    }

    @Override
    public void afterEach(ExtensionContext context) throws InterruptedException {
        TestRoot test = context.getStore(NAMESPACE).remove(TestRoot.class, TestRoot.class);
        if (test == null) {
            return;
        }
        test.root().cancel();
        LeakReport left = test.settings().awaitNoneRunning(() -> test.detector().runningUnder(test.root()),
                () -> test.detector().notStartedUnder(test.root()));
        if (!left.isEmpty()) {
            int n = left.tasks().size();
            throw new AssertionError("Tether: " + n + (n == 1 ? " task" : " tasks") + " started in test " + test.name()
                    + (n == 1 ? " still runs " : " still run ") + test.settings().waitMillis
                    + " ms after the test's context was cancelled (the bound is @TetherLeakCheck(waitMillis) or "
                    + Settings.WAIT_MILLIS + "; leave out known background work with @TetherLeakCheck(ignoreThreads,"
                    + " ignoreCreatedBy))\n\n" + left.toText());
        }
    }

    /** The installed detector, or one this extension installs for the rest of the engine's run. */
    private static LeakDetector detector(ExtensionContext context) {
        LeakDetector installed = LeakDetector.installed();
        if (installed != null) {
            return installed;
        }
        ExtensionContext root = context.getRoot();
        OwnedDetector owned = root.getStore(NAMESPACE).getOrComputeIfAbsent(OwnedDetector.class,
                key -> new OwnedDetector(LeakDetector.install(Settings.detectorOptions(root::getConfigurationParameter))),
                OwnedDetector.class);
        return Objects.requireNonNull(owned).detector();
    }

    /** The test method, then its class and the classes enclosing it: where annotations are looked for. */
    private static List<AnnotatedElement> annotated(ExtensionContext context) {
        List<AnnotatedElement> out = new ArrayList<>();
        context.getTestMethod().ifPresent(out::add);
        for (Optional<ExtensionContext> c = Optional.of(context); c.isPresent(); c = c.get().getParent()) {
            c.get().getTestClass().filter(k -> !out.contains(k)).ifPresent(out::add);
        }
        return out;
    }

    private static String testName(ExtensionContext context) {
        String className = context.getTestClass().map(Class::getName).orElse("?");
        String method = context.getTestMethod().map(m -> {
            StringBuilder out = new StringBuilder(m.getName()).append('(');
            Class<?>[] types = m.getParameterTypes();
            for (int i = 0; i < types.length; i++) {
                out.append(i == 0 ? "" : ", ").append(types[i].getSimpleName());
            }
            return out.append(')').toString();
        }).orElse(context.getDisplayName());
        String display = context.getDisplayName();
        return className + "#" + method + (display.equals(method) ? "" : " [" + display + "]");
    }
}
