package dev.tether;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class SmokeTest {
    static final Key<String> USER = Key.of("user");

    @Test
    void basics() throws Exception {
        ManualTimeSource time = ManualTimeSource.create();
        Context root = Context.root(time);
        try (CancellableContext a = root.withTimeout(Duration.ofMillis(300))) {
            Context v = a.withValue(USER, "alice");
            CancellableContext b = v.withCancel();
            assertFalse(b.isDone());
            assertEquals("alice", b.value(USER));
            assertSame(a.deadline().get(), b.deadline().get());
            var stage = b.done().toCompletableFuture();
            assertEquals(1, time.pendingTimers());
            time.advance(Duration.ofMillis(299));
            assertFalse(b.isDone());
            time.advance(Duration.ofMillis(1));
            assertTrue(stage.isDone());
            assertInstanceOf(DeadlineExceededException.class, b.err());
            assertSame(a.err(), b.err());
            assertFalse(a.cancel());
            System.out.println(b);
        }
        CancellableContext c = Context.background().withCancel();
        Context child = c.withCancel();
        RuntimeException why = new RuntimeException("why");
        assertTrue(c.cancel(why));
        assertSame(why, child.cause());
        assertSame(c.err(), child.err());
        assertInstanceOf(ContextCancelledException.class, child.err());
        try (CancellableContext d = Context.background().withCancel(); Scope s = d.attach()) {
            assertFalse(Context.current() instanceof CancellableContext);
            assertEquals(d.toString(), Context.current().toString());
        }
        assertSame(Context.background(), Context.current());
    }
}
