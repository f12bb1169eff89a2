package dev.tether;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Background, TODO and custom roots; the shape of the public types. */
class RootsAndTypesTest {

    @AfterEach
    void currentContextIsBackgroundAgain() {
        assertSame(Context.background(), Context.current());
    }

    @Test
    void backgroundIsOneInstance() {
        Context first = Context.background();

        Context second = Context.background();

        assertSame(first, second);
    }

    @Test
    void todoIsOneInstanceDistinctFromBackground() {
        Context first = Context.todo();

        Context second = Context.todo();

        assertSame(first, second);
        assertNotSame(Context.background(), first);
    }

    @Test
    void rootsAreNeverDoneAndHaveNoDeadline() {
        ManualTimeSource time = ManualTimeSource.create();
        List<Context> roots = List.of(Context.background(), Context.todo(), Context.root(time));

        time.advance(Duration.ofDays(10_000));

        for (Context root : roots) {
            assertFalse(root.isDone(), root.toString());
            assertNull(root.err(), root.toString());
            assertNull(root.cause(), root.toString());
            assertTrue(root.deadline().isEmpty(), root.toString());
            assertTrue(root.remaining().isEmpty(), root.toString());
            assertFalse(TestSupport.isComplete(root.done()), root.toString());
            assertDoesNotThrow(root::throwIfDone);
        }
    }

    @Test
    void rootsAreNotCancellable() {
        assertFalse(Context.background() instanceof CancellableContext);
        assertFalse(Context.todo() instanceof CancellableContext);
        assertFalse(Context.root(ManualTimeSource.create()) instanceof CancellableContext);
    }

    @Test
    void contextCannotBeImplementedOutsideTether() {
        assertTrue(Context.class.isSealed());
        assertTrue(CancellableContext.class.isSealed());
        for (Class<?> permitted : Context.class.getPermittedSubclasses()) {
            assertTrue(permitted == CancellableContext.class || !Modifier.isPublic(permitted.getModifiers()),
                    permitted + " must not be open to users");
        }
        for (Class<?> permitted : CancellableContext.class.getPermittedSubclasses()) {
            assertFalse(Modifier.isPublic(permitted.getModifiers()), permitted + " must not be open to users");
        }
    }

    @Test
    void doneExceptionsAreUncheckedCancellationExceptions() {
        CancellableContext cancelled = Context.background().withCancel();
        cancelled.cancel();
        CancellableContext expired = Context.background().withTimeout(Duration.ZERO);

        assertTrue(CancellationException.class.isAssignableFrom(ContextDoneException.class));
        assertTrue(ContextDoneException.class.isAssignableFrom(ContextCancelledException.class));
        assertTrue(ContextDoneException.class.isAssignableFrom(DeadlineExceededException.class));
        assertTrue(cancelled.err() instanceof ContextCancelledException);
        assertTrue(expired.err() instanceof DeadlineExceededException);
        assertTrue(RuntimeException.class.isAssignableFrom(ContextDoneException.class));
    }

    @Test
    void closeMethodsDeclareNoCheckedException() throws NoSuchMethodException {
        Class<?>[] scopeThrows = Scope.class.getMethod("close").getExceptionTypes();
        Class<?>[] contextThrows = CancellableContext.class.getMethod("close").getExceptionTypes();

        assertEquals(0, scopeThrows.length, "try-with-resources on a Scope needs no catch");
        assertEquals(0, contextThrows.length, "try-with-resources on a CancellableContext needs no catch");
    }
}
