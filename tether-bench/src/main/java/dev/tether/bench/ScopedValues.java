package dev.tether.bench;

import static java.lang.invoke.MethodType.methodType;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;

/**
 * {@code java.lang.ScopedValue}, reached through method handles so that this module compiles at {@code --release 21},
 * where ScopedValue is a preview API that plain code cannot name without {@code --enable-preview}.
 *
 * <p>Why method handles: the benchmark runs on JDK 25, where ScopedValue is final, but the build targets 21. A
 * second source set compiled at release 25 would make the module's contents depend on which JDK Maven picked;
 * {@code --enable-preview} would stamp every class as preview-only on 21 and is refused for release 21 by JDK
 * 25's javac. The handles below are {@code static final}, so C2 treats them as constants and inlines through them
 * as it does through direct calls; the only extra work is a checkcast per call. Only methods present in both JDK
 * 21 and 25 are used ({@code newInstance}, {@code where}, {@code Carrier.run}, {@code get}); on JDK 21–24 the
 * runner adds {@code --enable-preview}.
 */
final class ScopedValues {

    /** {@code ScopedValue.newInstance()}: {@code () -> Object}. */
    private static final MethodHandle NEW_INSTANCE;
    /** {@code ScopedValue.where(key, value)}: {@code (Object, Object) -> Object}, the Carrier. */
    static final MethodHandle WHERE;
    /** {@code Carrier.run(Runnable)}: {@code (Object, Runnable) -> void}. */
    static final MethodHandle RUN;
    /** {@code ScopedValue.get()}: {@code (Object) -> Object}. */
    static final MethodHandle GET;

    static {
        try {
            Class<?> scopedValue = Class.forName("java.lang.ScopedValue");
            Class<?> carrier = Class.forName("java.lang.ScopedValue$Carrier");
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            NEW_INSTANCE = lookup.findStatic(scopedValue, "newInstance", methodType(scopedValue))
                    .asType(methodType(Object.class));
            WHERE = lookup.findStatic(scopedValue, "where", methodType(carrier, scopedValue, Object.class))
                    .asType(methodType(Object.class, Object.class, Object.class));
            RUN = lookup.findVirtual(carrier, "run", methodType(void.class, Runnable.class))
                    .asType(methodType(void.class, Object.class, Runnable.class));
            GET = lookup.findVirtual(scopedValue, "get", methodType(Object.class))
                    .asType(methodType(Object.class, Object.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(
                    "java.lang.ScopedValue is missing: run on JDK 25+, or on 21-24 with --enable-preview: " + e);
        }
    }

    /** A new ScopedValue, typed as Object because this code cannot name the class. */
    static Object newInstance() {
        try {
            return (Object) NEW_INSTANCE.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private ScopedValues() {}
}
