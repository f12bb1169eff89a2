package dev.tether;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.net.URLClassLoader;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Context.current(): attach/Scope nesting and misuse, the read-only view, run/call/wrap, per-thread binding. */
class CurrentContextTest {

    private static final Key<String> NAME = Key.of("name");

    @AfterEach
    void currentContextIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
    }

    @Test
    void currentIsBackgroundWhenNothingIsAttached() {
        Context current = Context.current();

        assertSame(Context.background(), current);
    }

    @Test
    void attachBindsTheContextAndCloseRestoresThePreviousOne() {
        Context ctx = Context.background().withValue(NAME, "a");

        Context during;
        try (Scope ignored = ctx.attach()) {
            during = Context.current();
        }

        assertSame(ctx, during, "a context that cannot be cancelled is bound as it is");
        assertSame(Context.background(), Context.current());
    }

    @Test
    void scopesNestAndUnwindInReverseOrder() {
        Context a = Context.background().withValue(NAME, "a");
        Context b = a.withValue(NAME, "b");
        Context c = Context.background().withValue(NAME, "c");

        Scope sa = a.attach();
        Scope sb = b.attach();
        Scope sc = c.attach();
        assertSame(c, Context.current());
        sc.close();
        assertSame(b, Context.current());
        sb.close();
        assertSame(a, Context.current());
        sa.close();

        assertSame(Context.background(), Context.current());
    }

    @Test
    void attachingTheSameContextTwiceNests() {
        Context ctx = Context.background().withValue(NAME, "a");

        try (Scope outer = ctx.attach()) {
            try (Scope inner = ctx.attach()) {
                assertSame(ctx, Context.current());
            }
            assertSame(ctx, Context.current());
        }

        assertSame(Context.background(), Context.current());
    }

    @Test
    void currentOfAttachedCancellableIsAViewThatCannotCancel() {
        CancellableContext ctx = Context.background().withCancel();

        Context view;
        try (Scope ignored = ctx.attach()) {
            view = Context.current();
        }

        assertFalse(view instanceof CancellableContext, "code that merely finds a context cannot cancel it");
        assertNotSame(ctx, view);
        assertEquals(ctx.toString(), view.toString());
        ctx.cancel();
    }

    @Test
    void viewSharesDoneStateDeadlineAndValues() {
        ManualTimeSource time = ManualTimeSource.create();
        CancellableContext ctx = Context.root(time).withValue(NAME, "alice").withTimeout(Duration.ofSeconds(1));
        Context view;
        try (Scope ignored = ctx.attach()) {
            view = Context.current();
        }
        assertFalse(view.isDone());

        time.advance(Duration.ofSeconds(1));

        assertTrue(view.isDone());
        assertSame(ctx.err(), view.err());
        assertSame(ctx.cause(), view.cause());
        assertSame(ctx.deadline().orElseThrow(), view.deadline().orElseThrow());
        assertEquals(ctx.remaining(), view.remaining());
        assertEquals("alice", view.value(NAME));
        assertSame(time, view.timeSource());
    }

    @Test
    void viewSeesTheCauseOfACancelAndItsDoneStageCompletes() throws Exception {
        CancellableContext ctx = Context.background().withCancel();
        Context view;
        try (Scope ignored = ctx.attach()) {
            view = Context.current();
        }
        RuntimeException cause = new RuntimeException("stop");

        ctx.cancel(cause);

        assertSame(cause, view.cause());
        assertSame(ctx.err(), assertThrows(ContextDoneException.class, view::throwIfDone));
        assertEquals(null, TestSupport.await(view.done()));
    }

    @Test
    void childrenOfTheViewAreCancelledWithTheContext() {
        CancellableContext ctx = Context.background().withCancel();

        CancellableContext child;
        try (Scope ignored = ctx.attach()) {
            child = Context.current().withCancel();
        }
        ctx.cancel();

        assertTrue(child.isDone());
        assertSame(ctx.err(), child.err());
    }

    @Test
    void attachingTheViewBindsTheViewItself() {
        CancellableContext ctx = Context.background().withCancel();

        Context inner;
        Context view;
        try (Scope outer = ctx.attach()) {
            view = Context.current();
            try (Scope again = view.attach()) {
                inner = Context.current();
            }
        }

        assertSame(view, inner);
        ctx.cancel();
    }

    @Test
    void outOfOrderCloseIsReportedAndTheBindingIsStillRestored() {
        Context first = Context.background().withValue(NAME, "first");
        Context second = Context.background().withValue(NAME, "second");
        Scope outer = first.attach();
        Scope inner = second.attach();

        IllegalStateException report = assertThrows(IllegalStateException.class, outer::close);

        assertSame(Context.background(), Context.current(), "restored to what the closed scope replaced");
        assertTrue(report.getMessage().contains(first.toString()), report.getMessage());
        assertTrue(report.getMessage().contains(second.toString()), report.getMessage());
        assertDoesNotThrow(inner::close, "the scope left open was already unbound and reported");
        assertSame(Context.background(), Context.current());
    }

    @Test
    void closingAMiddleScopeRestoresWhatItReplaced() {
        Context a = Context.background().withValue(NAME, "a");
        Context b = Context.background().withValue(NAME, "b");
        Context c = Context.background().withValue(NAME, "c");
        Scope sa = a.attach();
        Scope sb = b.attach();
        Scope sc = c.attach();

        assertThrows(IllegalStateException.class, sb::close);

        assertSame(a, Context.current());
        sc.close();
        assertSame(a, Context.current());
        sa.close();
    }

    @Test
    void closeOnAnotherThreadIsReportedAndChangesNothing() throws Exception {
        Context ctx = Context.background().withValue(NAME, "mine");
        Scope scope = ctx.attach();

        Object thrown = TestSupport.onNewPlatformThread(() -> {
            try {
                scope.close();
                return "closed";
            } catch (IllegalStateException e) {
                return e;
            }
        });

        assertInstanceOf(IllegalStateException.class, thrown);
        assertSame(ctx, Context.current());
        scope.close();
        assertSame(Context.background(), Context.current());
    }

    @Test
    void secondCloseIsIgnored() {
        Context ctx = Context.background().withValue(NAME, "a");
        Scope scope = ctx.attach();
        scope.close();

        assertDoesNotThrow(scope::close);

        assertSame(Context.background(), Context.current());
    }

    @Test
    void secondCloseDoesNotDisturbAScopeOpenedSince() {
        Context first = Context.background().withValue(NAME, "first");
        Context second = Context.background().withValue(NAME, "second");
        Scope old = first.attach();
        old.close();
        Scope now = second.attach();

        old.close();

        assertSame(second, Context.current());
        now.close();
    }

    @Test
    void currentIsNotInheritedByNewThreads() throws Exception {
        Context ctx = Context.background().withValue(NAME, "parent thread");

        Context onPlatform;
        Context onVirtual;
        try (Scope ignored = ctx.attach()) {
            onPlatform = TestSupport.onNewPlatformThread(Context::current);
            onVirtual = TestSupport.onNewVirtualThread(Context::current);
        }

        assertSame(Context.background(), onPlatform);
        assertSame(Context.background(), onVirtual);
    }

    @Test
    void attachOnAnotherThreadDoesNotAffectThisOne() throws Exception {
        Context ctx = Context.background().withValue(NAME, "other");

        Context seenThere = TestSupport.onNewPlatformThread(() -> {
            Scope scope = ctx.attach();
            Context seen = Context.current();
            scope.close();
            return seen;
        });

        assertSame(ctx, seenThere);
        assertSame(Context.background(), Context.current());
    }

    @Test
    void runBindsTheContextForTheTaskAndRestoresAfterwards() {
        Context outer = Context.background().withValue(NAME, "outer");
        Context ctx = Context.background().withValue(NAME, "inner");
        AtomicReference<Context> seen = new AtomicReference<>();

        try (Scope ignored = outer.attach()) {
            ctx.run(() -> seen.set(Context.current()));
            assertSame(outer, Context.current());
        }

        assertSame(ctx, seen.get());
    }

    @Test
    void runRethrowsTheTasksExceptionUnchangedAndRestores() {
        Context ctx = Context.background().withValue(NAME, "a");
        IllegalArgumentException failure = new IllegalArgumentException("boom");

        IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class, () -> ctx.run(() -> {
            throw failure;
        }));

        assertSame(failure, thrown);
        assertEquals(0, thrown.getSuppressed().length);
    }

    @Test
    void callReturnsTheTasksResultWithTheContextBound() throws Exception {
        CancellableContext ctx = Context.background().withValue(NAME, "alice").withCancel();

        String result = ctx.call(() -> Context.current().value(NAME));

        assertEquals("alice", result);
        ctx.cancel();
    }

    @Test
    void callRethrowsACheckedExceptionUnchanged() {
        Context ctx = Context.background().withValue(NAME, "a");
        IOException failure = new IOException("disk");

        IOException thrown = assertThrows(IOException.class, () -> ctx.call(() -> {
            throw failure;
        }));

        assertSame(failure, thrown);
        assertEquals(0, thrown.getSuppressed().length);
        assertEquals(null, thrown.getCause());
    }

    @Test
    void callRethrowsUncheckedExceptionsAndErrorsUnchanged() {
        Context ctx = Context.background().withCancel();
        IllegalStateException unchecked = new IllegalStateException("state");
        StackOverflowError error = new StackOverflowError("deep");

        Exception thrownUnchecked = assertThrows(IllegalStateException.class, () -> ctx.call(() -> {
            throw unchecked;
        }));
        Error thrownError = assertThrows(StackOverflowError.class, () -> ctx.call(() -> {
            throw error;
        }));

        assertSame(unchecked, thrownUnchecked);
        assertSame(error, thrownError);
    }

    @Test
    void callRethrowsTheContextsOwnDoneExceptionUnchanged() {
        CancellableContext ctx = Context.background().withCancel();
        ctx.cancel();

        ContextDoneException thrown = assertThrows(ContextDoneException.class, () -> ctx.call(() -> {
            Context.current().throwIfDone();
            return "unreachable";
        }));

        assertSame(ctx.err(), thrown);
    }

    @Test
    void taskThatLeavesAScopeOpenIsReportedWhenRunEndsAndTheBindingIsRestored() {
        Context ctx = Context.background().withValue(NAME, "run");
        Context leaked = Context.background().withValue(NAME, "leaked");

        assertThrows(IllegalStateException.class, () -> ctx.run(leaked::attach));

        assertSame(Context.background(), Context.current());
    }

    @Test
    void callRethrowsTheTasksExceptionAndAttachesTheReportOfAScopeItLeftOpen() {
        Context ctx = Context.background().withValue(NAME, "call");
        Context leaked = Context.background().withValue(NAME, "leaked");
        IOException failure = new IOException("task failed");

        IOException thrown = assertThrows(IOException.class, () -> ctx.call(() -> {
            leaked.attach();
            throw failure;
        }));

        assertSame(failure, thrown);
        assertEquals(1, thrown.getSuppressed().length);
        assertInstanceOf(IllegalStateException.class, thrown.getSuppressed()[0]);
        assertSame(Context.background(), Context.current());
    }

    @Test
    void wrappedRunnableRunsWithTheContextOnAnotherThreadAndRestoresThatThread() throws Exception {
        CancellableContext ctx = Context.background().withValue(NAME, "alice").withCancel();
        AtomicReference<Context> seen = new AtomicReference<>();
        Runnable wrapped = ctx.wrap(() -> seen.set(Context.current()));

        Context afterwards = TestSupport.onNewPlatformThread(() -> {
            wrapped.run();
            return Context.current();
        });

        assertSame(Context.background(), afterwards);
        assertEquals("alice", seen.get().value(NAME));
        assertFalse(seen.get() instanceof CancellableContext);
        ctx.cancel();
        assertTrue(seen.get().isDone(), "the bound view shares the context's done state");
    }

    @Test
    void wrappedRunnableRestoresTheBindingOfTheThreadThatRunsIt() {
        Context captured = Context.background().withValue(NAME, "captured");
        Context local = Context.background().withValue(NAME, "local");
        AtomicReference<Context> seen = new AtomicReference<>();
        Runnable wrapped = captured.wrap(() -> seen.set(Context.current()));

        try (Scope ignored = local.attach()) {
            wrapped.run();
            assertSame(local, Context.current());
        }

        assertSame(captured, seen.get());
    }

    @Test
    void wrappedCallableRunsWithTheContextAndRethrowsUnchanged() throws Exception {
        Context ctx = Context.background().withValue(NAME, "bob");
        IOException failure = new IOException("io");
        Callable<String> reads = ctx.wrap(() -> Context.current().value(NAME));
        Callable<String> fails = ctx.wrap(() -> {
            throw failure;
        });

        String read = TestSupport.onNewVirtualThread(reads);
        IOException thrown = assertThrows(IOException.class, fails::call);

        assertEquals("bob", read);
        assertSame(failure, thrown);
    }

    @Test
    void withScopeSitesTheReportNamesWhereEachScopeWasOpened() throws Exception {
        // Binding reads the flag once, when its class initializes, so this runs Tether in a class loader of its own
        // (parent: the boot loader, because the platform loader would hand back the module's classes).
        URL classes = Context.class.getProtectionDomain().getCodeSource().getLocation();
        String previous = System.getProperty("dev.tether.scopeSites");
        System.setProperty("dev.tether.scopeSites", "true");
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes}, null)) {
            Class<?> contextType = Class.forName("dev.tether.Context", true, loader);
            Class<?> scopeType = Class.forName("dev.tether.Scope", true, loader);
            Object background = contextType.getMethod("background").invoke(null);
            Object outerContext = contextType.getMethod("withCancel").invoke(background);
            Object innerContext = contextType.getMethod("withCancel").invoke(outerContext);
            Object outer = openOuterScope(contextType, outerContext);
            openInnerScope(contextType, innerContext);

            InvocationTargetException failure = assertThrows(
                    InvocationTargetException.class, () -> scopeType.getMethod("close").invoke(outer));

            IllegalStateException report = assertInstanceOf(IllegalStateException.class, failure.getCause());
            assertTrue(mentions(report.getCause(), "openInnerScope"), "where the scope left open was opened");
            assertTrue(Arrays.stream(report.getSuppressed()).anyMatch(t -> mentions(t, "openOuterScope")),
                    "where the scope closed out of order was opened");
            assertSame(background, contextType.getMethod("current").invoke(null));
        } finally {
            if (previous == null) {
                System.clearProperty("dev.tether.scopeSites");
            } else {
                System.setProperty("dev.tether.scopeSites", previous);
            }
        }
    }

    private static Object openOuterScope(Class<?> contextType, Object context) throws Exception {
        return contextType.getMethod("attach").invoke(context);
    }

    private static Object openInnerScope(Class<?> contextType, Object context) throws Exception {
        return contextType.getMethod("attach").invoke(context);
    }

    private static boolean mentions(Throwable site, String method) {
        return site != null
                && Arrays.stream(site.getStackTrace()).anyMatch(frame -> frame.getMethodName().equals(method));
    }
}
