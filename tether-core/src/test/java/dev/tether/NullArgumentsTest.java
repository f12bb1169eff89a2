package dev.tether;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every null argument is a NullPointerException whose message names the argument. */
class NullArgumentsTest {

    private static final Key<String> KEY = Key.of("key");

    @AfterEach
    void currentContextIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
    }

    private static void assertNullRejected(String argument, Executable call) {
        NullPointerException e = assertThrows(NullPointerException.class, call);
        assertNotNull(e.getMessage(), "the message names the argument '" + argument + "'");
        assertTrue(Pattern.compile("\\b" + argument + "\\b").matcher(e.getMessage()).find(),
                "message '" + e.getMessage() + "' names '" + argument + "'");
    }

    /** One context of every kind, live and done. */
    static Stream<Arguments> contexts() {
        ManualTimeSource time = ManualTimeSource.create();
        CancellableContext cancelled = Context.background().withCancel();
        cancelled.cancel();
        CancellableContext expired = Context.root(time).withTimeout(Duration.ofSeconds(1));
        time.advance(Duration.ofSeconds(1));
        CancellableContext live = Context.background().withCancel();
        Context view;
        try (Scope ignored = live.attach()) {
            view = Context.current();
        }
        return Stream.of(
                Arguments.of("background", Context.background()),
                Arguments.of("todo", Context.todo()),
                Arguments.of("root", Context.root(time)),
                Arguments.of("withCancel", live),
                Arguments.of("withTimeout", Context.root(time).withTimeout(Duration.ofHours(1))),
                Arguments.of("withValue", live.withValue(KEY, "v")),
                Arguments.of("withoutCancel", live.withoutCancel()),
                Arguments.of("view", view),
                Arguments.of("cancelled", cancelled),
                Arguments.of("expired", expired));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("contexts")
    void derivingMethodsNameTheirNullArgument(String kind, Context ctx) {
        assertNullRejected("timeout", () -> ctx.withTimeout(null));
        assertNullRejected("deadline", () -> ctx.withDeadline(null));
        assertNullRejected("key", () -> ctx.withValue(null, "value"));
        assertNullRejected("value", () -> ctx.withValue(KEY, null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("contexts")
    void valueNamesANullKey(String kind, Context ctx) {
        assertNullRejected("key", () -> ctx.value(null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("contexts")
    void onDoneNamesANullActionOrExecutor(String kind, Context ctx) {
        assertNullRejected("action", () -> ctx.onDone(null));
        assertNullRejected("action", () -> ctx.onDone(null, Runnable::run));
        assertNullRejected("executor", () -> ctx.onDone(() -> { }, null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("contexts")
    void runCallAndWrapNameANullTask(String kind, Context ctx) {
        assertNullRejected("task", () -> ctx.run(null));
        assertNullRejected("task", () -> ctx.call(null));
        assertNullRejected("task", () -> ctx.wrap((Runnable) null));
        assertNullRejected("task", () -> ctx.wrap((Callable<Object>) null));
        assertSame(Context.background(), Context.current(), "a rejected task binds nothing");
    }

    @Test
    void cancelAcceptsANullCause() {
        CancellableContext ctx = Context.background().withCancel();

        assertDoesNotThrow(() -> ctx.cancel(null));
    }

    @Test
    void rootNamesANullTimeSource() {
        assertNullRejected("timeSource", () -> Context.root(null));
    }

    @Test
    void keyNamesANullName() {
        assertNullRejected("name", () -> Key.of(null));
    }

    @Test
    void manualTimeSourceNamesItsNullArguments() {
        ManualTimeSource time = ManualTimeSource.create();

        assertNullRejected("start", () -> ManualTimeSource.create(null));
        assertNullRejected("amount", () -> time.advance(null));
        assertNullRejected("task", () -> time.schedule(null, 1));
    }

    @Test
    void propagatingNamesANullExecutor() {
        assertNullRejected("executor", () -> ContextExecutors.propagating((Executor) null));
        assertNullRejected("executor", () -> ContextExecutors.propagating((ExecutorService) null));
        assertNullRejected("executor", () -> ContextExecutors.propagating((ScheduledExecutorService) null));
    }

    @Test
    void propagatingExecutorsNameANullTask() throws Exception {
        ScheduledExecutorService pool = Executors.newSingleThreadScheduledExecutor();
        try {
            Executor executor = ContextExecutors.propagating((Executor) pool);
            ExecutorService service = ContextExecutors.propagating((ExecutorService) pool);
            ScheduledExecutorService scheduled = ContextExecutors.propagating(pool);

            assertNullRejected("task", () -> executor.execute(null));
            assertNullRejected("task", () -> service.execute(null));
            assertNullRejected("task", () -> service.submit((Runnable) null));
            assertNullRejected("task", () -> service.submit((Runnable) null, "result"));
            assertNullRejected("task", () -> service.submit((Callable<Object>) null));
            assertNullRejected("task", () -> service.invokeAll(Arrays.asList(() -> 1, null)));
            assertNullRejected("task", () -> service.invokeAny(Arrays.asList(() -> 1, null)));
            assertNullRejected("task", () -> scheduled.schedule((Runnable) null, 1, TimeUnit.MILLISECONDS));
            assertNullRejected("task", () -> scheduled.schedule((Callable<Object>) null, 1, TimeUnit.MILLISECONDS));
            assertNullRejected("task", () -> scheduled.scheduleAtFixedRate(null, 1, 1, TimeUnit.MILLISECONDS));
            assertNullRejected("task", () -> scheduled.scheduleWithFixedDelay(null, 1, 1, TimeUnit.MILLISECONDS));
        } finally {
            List<Runnable> never = pool.shutdownNow();
            assertTrue(never.isEmpty(), "nothing was scheduled");
        }
    }
}
