package dev.tether.lint;

import com.google.errorprone.CompilationTestHelper;
import org.junit.jupiter.api.Test;

/** Flag and no-flag cases for CTX006, CTX009 and CTX012. */
class MoreRulesTest {

    @Test
    void ctx006_flagsUnboundedLoopsThatNeverCheckTheContext() {
        CompilationTestHelper.newInstance(UncheckedLoop.class, getClass()).addSourceLines("Test.java", """
                import dev.tether.*;
                import java.util.Queue;
                class Test {
                    void bad1(Context ctx, Queue<String> q) {
                        // BUG: Diagnostic contains: CTX006
                        while (true) { if (q.poll() == null) break; }
                    }
                    void bad2(Context ctx, Queue<String> q) {
                        // BUG: Diagnostic contains: never checks 'ctx'
                        for (;;) { if (q.poll() == null) return; }
                    }
                    void bad3(Context ctx, Queue<String> q) {
                        // BUG: Diagnostic contains: CTX006
                        do { if (q.poll() == null) return; } while ((true));
                    }
                    void good1(Context ctx, Queue<String> q) {
                        while (true) { ctx.throwIfDone(); if (q.poll() == null) return; }
                    }
                    void good2(Context ctx, Queue<String> q) {
                        while (!ctx.isDone()) { q.poll(); }
                        for (int i = 0; i < 10; i++) { q.poll(); }
                        while (!q.isEmpty()) { q.poll(); }
                        Runnable r = () -> { while (true) { q.poll(); } };
                        for (;;) { if (handle(ctx, q.poll())) return; }
                    }
                    void noContext(Queue<String> q) {
                        while (true) { if (q.poll() == null) break; }
                    }
                    static boolean handle(Context ctx, String s) { return s == null; }
                }
                """).doTest();
    }

    @Test
    void ctx009_flagsMutableAndBusinessValues() {
        CompilationTestHelper.newInstance(MutableValue.class, getClass())
                .setArgs("-XepOpt:CTX009:MutableTypes=Test.Order")
                .addSourceLines("Test.java", """
                        import dev.tether.*;
                        import java.util.*;
                        class Test {
                            static class Order {}
                            static final Key<List<String>> ROLES = Key.of("roles");
                            static final Key<Map<String, String>> HEADERS = Key.of("headers");
                            static final Key<byte[]> BYTES = Key.of("bytes");
                            static final Key<Order> ORDER = Key.of("order");
                            static final Key<String> NAME = Key.of("name");
                            void bad(Context ctx, List<String> roles, Map<String, String> headers, Order order) {
                                // BUG: Diagnostic contains: CTX009
                                ctx.withValue(ROLES, new ArrayList<>(roles));
                                // BUG: Diagnostic contains: CTX009
                                ctx.withValue(ROLES, roles);
                                // BUG: Diagnostic contains: CTX009
                                ctx.withValue(HEADERS, headers);
                                // BUG: Diagnostic contains: an array
                                ctx.withValue(BYTES, new byte[0]);
                                // BUG: Diagnostic contains: CTX009
                                ctx.withValue(ORDER, order);
                            }
                            void good(Context ctx, List<String> roles, Map<String, String> headers) {
                                ctx.withValue(ROLES, List.copyOf(roles));
                                ctx.withValue(ROLES, Collections.unmodifiableList(roles));
                                ctx.withValue(HEADERS, Map.of());
                                ctx.withValue(NAME, "alice");
                            }
                        }
                        """)
                .doTest();
    }

    @Test
    void ctx012_flagsFuturesReturnedFromTheBlockThatCancelsThem() {
        CompilationTestHelper.newInstance(CancelBeforeAsync.class, getClass()).addSourceLines("Test.java", """
                import dev.tether.*;
                import java.util.concurrent.*;
                class Test {
                    Future<String> bad(Context ctx, ExecutorService executor) {
                        try (CancellableContext call = ctx.withCancel()) {
                            // BUG: Diagnostic contains: CTX012
                            return executor.submit(call.wrap(() -> "x"));
                        }
                    }
                    CompletableFuture<String> bad2(Context ctx) {
                        try (CancellableContext call = ctx.withCancel()) {
                            // BUG: Diagnostic contains: runs under 'call'
                            return CompletableFuture.supplyAsync(() -> call.isDone() ? "a" : "b");
                        }
                    }
                    String good(Context ctx, ExecutorService executor) throws Exception {
                        try (CancellableContext call = ctx.withCancel()) {
                            return executor.submit(call.wrap(() -> "x")).get();
                        }
                    }
                    Future<String> unrelated(Context ctx, ExecutorService executor) {
                        try (CancellableContext call = ctx.withCancel()) {
                            return CompletableFuture.completedFuture("done");
                        }
                    }
                    Callable<Future<String>> lambda(Context ctx, ExecutorService executor) {
                        try (CancellableContext call = ctx.withCancel()) {
                            Callable<Future<String>> later = () -> { return executor.submit(() -> "x"); };
                            return later;
                        }
                    }
                }
                """).doTest();
    }
}
