package dev.tether.leak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Trimming, formatting and classifying stacks, on stacks made by hand. */
class FramesTest {

    private static StackTraceElement frame(String module, String cls, String method, int line) {
        return new StackTraceElement(null, module, null, cls, method, line < 0 ? null : cls + ".java", line);
    }

    private static StackTraceElement nativeFrame(String module, String cls, String method) {
        return new StackTraceElement(null, module, null, cls, method, null, -2);
    }

    @Test
    void formatNamesJdkModulesOnlyAndNeverVersions() {
        assertEquals("java.base/java.lang.Thread.sleep(java.lang.Thread.java:10)",
                Frames.format(frame("java.base", "java.lang.Thread", "sleep", 10)));
        assertEquals("com.shop.Checkout.handle(com.shop.Checkout.java:42)",
                Frames.format(new StackTraceElement(null, "shop", "1.2", "com.shop.Checkout", "handle",
                        "com.shop.Checkout.java", 42)));
        assertEquals("java.base/sun.nio.ch.Net.poll(Native Method)",
                Frames.format(nativeFrame("java.base", "sun.nio.ch.Net", "poll")));
        assertEquals("a.B.c(Unknown Source)", Frames.format(frame(null, "a.B", "c", -1)));
    }

    @Test
    void tetherMachineryIsTrimmedButTestsInTheSamePackagesAreNot() {
        assertTrue(Frames.internal("dev.tether.AbstractContext$1"));
        assertTrue(Frames.internal("dev.tether.spi.ContextObservers$Composite"));
        assertTrue(Frames.internal("dev.tether.leak.Tracker"));
        assertTrue(Frames.internal("dev.tether.leak.Tracker$Snapshot"));
        assertTrue(Frames.internal("dev.tether.junit.TetherExtension"));
        assertTrue(Frames.internal("java.util.concurrent.ThreadPoolExecutor"));
        assertFalse(Frames.internal("dev.tether.leak.LeakDetectorTest"));
        assertFalse(Frames.internal("dev.tether.examples.CheckoutDemo"));
        assertFalse(Frames.internal("com.shop.Checkout"));
    }

    @Test
    void currentStackKeepsTheBlockingJdkFramesAndDropsTheThreadsPlumbing() {
        StackTraceElement[] stack = {
            nativeFrame("java.base", "sun.nio.ch.Net", "poll"),
            frame("java.base", "sun.nio.ch.NioSocketImpl", "park", 1),
            frame(null, "com.shop.Backend", "fetch", 7),
            frame(null, "dev.tether.AbstractContext", "run", 3),
            frame(null, "com.shop.Checkout", "lambda$handle$0", 51),
            frame("java.base", "java.util.concurrent.ThreadPoolExecutor", "runWorker", 2),
            frame("java.base", "java.lang.Thread", "run", 4),
        };

        List<String> trimmed = Frames.trimCurrent(stack);

        assertEquals(List.of("java.base/sun.nio.ch.Net.poll(Native Method)",
                "java.base/sun.nio.ch.NioSocketImpl.park(sun.nio.ch.NioSocketImpl.java:1)",
                "com.shop.Backend.fetch(com.shop.Backend.java:7)",
                "com.shop.Checkout.lambda$handle$0(com.shop.Checkout.java:51)"), trimmed);
    }

    @Test
    void longStacksAreCutWithACount() {
        StackTraceElement[] stack = new StackTraceElement[Frames.CURRENT_FRAMES + 5];
        for (int i = 0; i < stack.length; i++) {
            stack[i] = frame(null, "a.Deep", "level" + i, i);
        }

        List<String> trimmed = Frames.trimCurrent(stack);

        assertEquals(Frames.CURRENT_FRAMES + 1, trimmed.size());
        assertEquals("... 5 more", trimmed.get(trimmed.size() - 1));
    }

    @Test
    void classificationFollowsStateAndStack() {
        StackTraceElement[] socketRead = {nativeFrame("java.base", "sun.nio.ch.Net", "poll"),
            frame("java.base", "sun.nio.ch.NioSocketImpl", "park", 1)};
        StackTraceElement[] fileRead = {nativeFrame("java.base", "java.io.FileInputStream", "readBytes")};
        StackTraceElement[] ownNative = {nativeFrame(null, "com.shop.Crc", "native0")};
        StackTraceElement[] yielding = {nativeFrame("java.base", "java.lang.Thread", "yield0"),
            frame(null, "com.shop.Spin", "loop", 3)};
        StackTraceElement[] computing = {frame(null, "com.shop.Spin", "loop", 3)};

        assertEquals(Classification.RUNNING, Frames.classify(false, Thread.State.RUNNABLE, socketRead));
        assertEquals(Classification.BLOCKED_UNINTERRUPTIBLE, Frames.classify(true, Thread.State.RUNNABLE, socketRead));
        assertEquals(Classification.BLOCKED_UNINTERRUPTIBLE, Frames.classify(true, Thread.State.RUNNABLE, fileRead));
        assertEquals(Classification.BLOCKED_UNINTERRUPTIBLE, Frames.classify(true, Thread.State.RUNNABLE, ownNative));
        assertEquals(Classification.IGNORING_CANCELLATION, Frames.classify(true, Thread.State.RUNNABLE, yielding));
        assertEquals(Classification.IGNORING_CANCELLATION, Frames.classify(true, Thread.State.RUNNABLE, computing));
        assertEquals(Classification.IGNORING_CANCELLATION,
                Frames.classify(true, Thread.State.RUNNABLE, new StackTraceElement[0]));
        assertEquals(Classification.BLOCKED_MONITOR, Frames.classify(true, Thread.State.BLOCKED, computing));
        assertEquals(Classification.PARKED, Frames.classify(true, Thread.State.WAITING, computing));
        assertEquals(Classification.PARKED, Frames.classify(true, Thread.State.TIMED_WAITING, computing));
    }

    @Test
    void captureStartsAtTheCallersOwnFrame() {
        Frames.Capture capture = Frames.capture();

        assertTrue(capture.site().startsWith("dev.tether.leak.FramesTest.captureStartsAtTheCallersOwnFrame("),
                capture.site());
        assertTrue(capture.frames().length <= Frames.CREATION_FRAMES);
        for (StackTraceElement f : capture.frames()) {
            assertFalse(Frames.internal(f.getClassName()), f.toString());
        }
    }

    @Test
    void unnamedThreadsAreNamedByTheirId() {
        Thread unnamed = Thread.ofVirtual().unstarted(() -> { });
        assertEquals("#" + unnamed.threadId(), Frames.threadLabel(unnamed));
        assertEquals("named", Frames.threadLabel(Thread.ofVirtual().name("named").unstarted(() -> { })));
    }
}
