package dev.tether;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.spi.ContextObserver;
import dev.tether.spi.ContextObservers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The observer hooks: which events tether-core reports, with what, on which thread, and tokens passed through. */
@Timeout(30)
class ContextObserverTest {

    private final ManualTimeSource clock = ManualTimeSource.create();
    private final Context root = Context.root(clock);
    private final Recorder recorder = new Recorder();
    private ContextObservers.@Nullable Installation installation = ContextObservers.install(recorder);

    @AfterEach
    void uninstall() {
        if (installation != null) {
            installation.close();
        }
    }

    @Test
    void reportsCreationWithNearestCancellableParent() {
        try (CancellableContext a = root.withCancel();
                CancellableContext b = a.withValue(Key.<String>of("k"), "v").withTimeout(Duration.ofSeconds(1))) {
            assertTrue(recorder.events.contains("created " + id(a) + " under null"));
            assertTrue(recorder.events.contains("created " + id(b) + " under " + id(a)), recorder.events::toString);
        }
    }

    @Test
    void reportsCancelCallsAndOneEndPerOriginWithDescendantCount() {
        CancellableContext a = root.withCancel();
        CancellableContext b = a.withCancel();
        CancellableContext c = b.withCancel();
        c.onDone(() -> { }, Runnable::run); // links c
        CancellableContext leaf = a.withCancel(); // never linked: read lazily, not counted
        recorder.events.clear();
        IllegalStateException cause = new IllegalStateException("client left");
        assertTrue(a.cancel(cause));
        assertEquals(List.of("cancelCalled " + id(a) + " cause=" + cause, "ended " + id(a) + " byAncestor=false descendants=2"),
                recorder.events);
        recorder.events.clear();
        assertFalse(c.cancel());
        assertEquals(List.of("cancelCalled " + id(c) + " cause=null"), recorder.events, "a late cancel is still a call");
        assertTrue(leaf.isDone());
    }

    @Test
    void deadlineEndIsReportedOnTheThreadThatSawIt() {
        CancellableContext timed = root.withTimeout(Duration.ofMillis(200));
        recorder.events.clear();
        clock.advance(Duration.ofMillis(200));
        assertTrue(timed.isDone());
        assertEquals(List.of("ended " + id(timed) + " byAncestor=false descendants=0"), recorder.events);
        assertEquals(Thread.currentThread(), recorder.endThread);
        timed.close();
    }

    @Test
    void childOfEndedParentIsReportedEndedByAncestor() {
        CancellableContext parent = root.withCancel();
        parent.cancel();
        recorder.events.clear();
        CancellableContext child = parent.withCancel();
        assertEquals(List.of("created " + id(child) + " under " + id(parent),
                "ended " + id(child) + " byAncestor=true descendants=0"), recorder.events);
    }

    @Test
    void runAndCallAreTasksWithTheirOwner() throws Exception {
        try (CancellableContext ctx = root.withCancel()) {
            Context values = ctx.withValue(Key.<String>of("user"), "ada");
            recorder.events.clear();
            values.run(() -> recorder.events.add("body sees " + (Context.current() == values)));
            assertEquals(List.of("submitted owner=" + id(ctx), "started owner=" + id(ctx) + " token=s1",
                    "body sees true", "ended token=t1"), recorder.events);
            recorder.events.clear();
            assertThrows(IllegalStateException.class, () -> values.call(() -> {
                throw new IllegalStateException("boom");
            }));
            assertEquals(List.of("submitted owner=" + id(ctx), "started owner=" + id(ctx) + " token=s2",
                    "ended token=t2"), recorder.events, "a task that throws still ends");
        }
    }

    @Test
    void wrapSubmitsOnTheCallerAndStartsOnTheRunner() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> new Thread(r, "runner"));
        try (CancellableContext ctx = root.withCancel()) {
            recorder.events.clear();
            Callable<String> wrapped = ctx.wrap(() -> Thread.currentThread().getName());
            assertEquals(List.of("submitted owner=" + id(ctx)), recorder.events);
            assertEquals(Thread.currentThread(), recorder.submitThread);
            assertEquals("runner", pool.submit(wrapped).get(10, TimeUnit.SECONDS));
            assertEquals("runner", recorder.startThread.getName());
            assertEquals(List.of("submitted owner=" + id(ctx), "started owner=" + id(ctx) + " token=s1",
                    "ended token=t1"), recorder.events);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void forksAreSubmittedByTheForkingThread() throws Exception {
        try (CancellableContext ctx = root.withCancel(); TaskGroup group = TaskGroup.open(ctx)) {
            recorder.events.clear();
            group.fork(() -> "x");
            assertEquals(Thread.currentThread(), recorder.submitThread);
            group.join();
            assertTrue(recorder.events.contains("ended token=t1"), recorder.events::toString);
            // The group's context is its own child of ctx; the fork is owned by it.
            assertTrue(recorder.events.get(0).startsWith("submitted owner="), recorder.events::toString);
        }
    }

    @Test
    void underARootTheOwnerIsNull() {
        recorder.events.clear();
        root.run(() -> { });
        assertEquals(List.of("submitted owner=null", "started owner=null token=s1", "ended token=t1"), recorder.events);
    }

    @Test
    void severalObserversEachGetTheirOwnTokens() {
        Recorder second = new Recorder();
        try (ContextObservers.Installation extra = ContextObservers.install(second);
                CancellableContext ctx = root.withCancel()) {
            recorder.events.clear();
            second.events.clear();
            Runnable wrapped = ctx.wrap(() -> { });
            wrapped.run();
            List<String> expected = List.of("submitted owner=" + id(ctx), "started owner=" + id(ctx) + " token=s1",
                    "ended token=t1");
            assertEquals(expected, recorder.events);
            assertEquals(expected, second.events);
            assertSame(second, extra.observer());
        }
    }

    @Test
    void closedInstallationHearsNothingAndCloseIsIdempotent() {
        ContextObservers.Installation i = java.util.Objects.requireNonNull(installation);
        i.close();
        i.close();
        installation = null;
        recorder.events.clear();
        root.withCancel().cancel();
        root.run(() -> { });
        assertEquals(List.of(), recorder.events);
        assertNull(ContextObservers.installed());
    }

    @Test
    void installingTwiceIsRefusedWithAClearError() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ContextObservers.install(recorder));
        assertTrue(e.getMessage().contains("installed already"), e.getMessage());
        NullPointerException npe = assertThrows(NullPointerException.class, () -> ContextObservers.install(null));
        assertTrue(npe.getMessage().contains("observer"), npe.getMessage());
    }

    @Test
    void installingWhileTasksRunIsSafe() throws Exception {
        // Installed between submit and start: start gets a null token; uninstalled between start and end: the
        // observer that saw the start sees the end.
        java.util.Objects.requireNonNull(installation).close();
        installation = null;
        try (CancellableContext ctx = root.withCancel()) {
            Runnable wrapped = ctx.wrap(() -> { });
            Recorder late = new Recorder();
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            try (ContextObservers.Installation i = ContextObservers.install(late)) {
                wrapped.run();
                assertEquals(List.of("started owner=" + id(ctx) + " token=null", "ended token=t1"), late.events);
                late.events.clear();
                Thread t = Thread.ofVirtual().start(ctx.wrap(() -> {
                    started.countDown();
                    try {
                        release.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }));
                TestSupport.await(started);
                i.close();
                release.countDown();
                t.join();
            }
            assertEquals(List.of("submitted owner=" + id(ctx), "started owner=" + id(ctx) + " token=s1", "ended token=t2"),
                    late.events, "the end reaches the observer that saw the start, though it was uninstalled since");
        }
    }

    private static String id(Object context) {
        return Integer.toHexString(System.identityHashCode(context));
    }

    /** Records events on contexts it saw, as strings, with tokens that count. */
    private static final class Recorder implements ContextObserver {
        final List<String> events = Collections.synchronizedList(new ArrayList<>());
        private final AtomicInteger submits = new AtomicInteger();
        private final AtomicInteger starts = new AtomicInteger();
        volatile @Nullable Thread submitThread;
        volatile @Nullable Thread startThread;
        volatile @Nullable Thread endThread;

        @Override
        public void contextCreated(CancellableContext context, @Nullable CancellableContext parent) {
            events.add("created " + id(context) + " under " + (parent == null ? "null" : id(parent)));
        }

        @Override
        public void cancelCalled(CancellableContext context, @Nullable Throwable cause) {
            events.add("cancelCalled " + id(context) + " cause=" + cause);
        }

        @Override
        public void contextEnded(CancellableContext context, boolean byAncestor, int descendantsEnded, long nanos) {
            endThread = Thread.currentThread();
            assertTrue(nanos >= 0);
            events.add("ended " + id(context) + " byAncestor=" + byAncestor + " descendants=" + descendantsEnded);
        }

        @Override
        public Object taskSubmitted(@Nullable CancellableContext owner, Context context) {
            submitThread = Thread.currentThread();
            events.add("submitted owner=" + (owner == null ? "null" : id(owner)));
            return "s" + submits.incrementAndGet();
        }

        @Override
        public Object taskStarted(@Nullable CancellableContext owner, Context context, @Nullable Object submitted) {
            startThread = Thread.currentThread();
            events.add("started owner=" + (owner == null ? "null" : id(owner)) + " token=" + submitted);
            return "t" + starts.incrementAndGet();
        }

        @Override
        public void taskEnded(@Nullable Object started) {
            events.add("ended token=" + started);
        }
    }
}
