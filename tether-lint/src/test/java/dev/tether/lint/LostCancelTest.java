package dev.tether.lint;

import com.google.errorprone.BugCheckerRefactoringTestHelper;
import com.google.errorprone.CompilationTestHelper;
import org.junit.jupiter.api.Test;

class LostCancelTest {

    private final CompilationTestHelper helper = CompilationTestHelper.newInstance(LostCancel.class, getClass());

    @Test
    void flagsDiscardedInlineNeverCancelledAndEarlyReturns() {
        helper.addSourceLines("Test.java", """
                import dev.tether.*;
                import java.time.Duration;
                class Test {
                    void discarded(Context ctx) {
                        // BUG: Diagnostic contains: CTX001
                        ctx.withCancel();
                    }
                    Object inline(Context ctx) throws Exception {
                        // BUG: Diagnostic contains: used inline and never closed
                        return ctx.withTimeout(Duration.ofSeconds(1)).call(() -> "x");
                    }
                    void never(Context ctx) {
                        // BUG: Diagnostic contains: 'child' is never cancelled
                        CancellableContext child = ctx.withCancel();
                        child.isDone();
                    }
                    int earlyReturn(Context ctx, boolean cached) {
                        // BUG: Diagnostic contains: not cancelled on every path (the exit on line 21
                        CancellableContext call = ctx.withTimeout(Duration.ofSeconds(2));
                        if (cached) {
                            return 0;
                        }
                        try {
                            return 1;
                        } finally {
                            call.cancel();
                        }
                    }
                    void earlyThrow(Context ctx, boolean bad) {
                        // BUG: Diagnostic contains: CTX001
                        CancellableContext call = ctx.withCancel();
                        if (bad) {
                            throw new IllegalStateException();
                        }
                        call.cancel();
                    }
                    void reassigned(Context ctx) {
                        CancellableContext call;
                        // BUG: Diagnostic contains: CTX001
                        call = ctx.withDeadline(java.time.Instant.now());
                        call.isDone();
                    }
                    void inLambda(Context ctx) {
                        Runnable r = () -> {
                            // BUG: Diagnostic contains: CTX001
                            CancellableContext call = ctx.withCancel();
                            call.isDone();
                        };
                    }
                    void assignedInBranchNeverCancelled(Context ctx, boolean b) {
                        CancellableContext call = null;
                        if (b) {
                            // BUG: Diagnostic contains: CTX001
                            call = ctx.withCancel();
                        }
                        System.out.println(call.isDone());
                    }
                    void nestedBlock(Context ctx, boolean b) {
                        if (b) {
                            // BUG: Diagnostic contains: never cancelled
                            CancellableContext call = ctx.withCancel();
                            call.isDone();
                        }
                    }
                }
                """).doTest();
    }

    @Test
    void acceptsTryWithResourcesFinallyEscapesReturnsAndLambdas() {
        helper.addSourceLines("Test.java", """
                import dev.tether.*;
                import java.time.Duration;
                import java.util.concurrent.*;
                class Test {
                    CancellableContext field;
                    Object twr(Context ctx) throws Exception {
                        try (CancellableContext call = ctx.withTimeout(Duration.ofSeconds(1))) {
                            return call.call(() -> "x");
                        }
                    }
                    void twrJava9(Context ctx) {
                        CancellableContext call = ctx.withCancel();
                        try (call) {
                            call.isDone();
                        }
                    }
                    void inFinally(Context ctx, boolean b) {
                        CancellableContext call = ctx.withCancel();
                        try {
                            if (b) {
                                return;
                            }
                            call.isDone();
                        } finally {
                            call.cancel();
                        }
                    }
                    CancellableContext returned(Context ctx) {
                        CancellableContext call = ctx.withCancel();
                        call.onDone(() -> {});
                        return call;
                    }
                    CancellableContext returnedDirectly(Context ctx) {
                        return ctx.withTimeout(Duration.ofSeconds(1));
                    }
                    void passed(Context ctx) {
                        CancellableContext call = ctx.withCancel();
                        closeLater(call);
                    }
                    void passedDirectly(Context ctx) {
                        closeLater(ctx.withCancel());
                    }
                    void stored(Context ctx) {
                        field = ctx.withCancel();
                    }
                    void capturedByLambda(Context ctx, ScheduledExecutorService timer) {
                        CancellableContext call = ctx.withCancel();
                        timer.schedule(() -> call.cancel(), 1, TimeUnit.SECONDS);
                    }
                    void cancelledBeforeEachExit(Context ctx, boolean b) {
                        CancellableContext call = ctx.withCancel();
                        if (b) {
                            call.cancel();
                            return;
                        }
                        call.close();
                    }
                    void cancelledAtEnd(Context ctx) {
                        CancellableContext call = ctx.withCancel();
                        call.isDone();
                        call.cancel(new RuntimeException("done"));
                    }
                    void chainedCancel(Context ctx) {
                        ctx.withCancel().cancel();
                    }
                    Runnable lambdaReturns(Context ctx) {
                        java.util.function.Supplier<CancellableContext> s = () -> ctx.withCancel();
                        return () -> {};
                    }
                    void assignedInTryCancelledInFinally(Context ctx) {
                        CancellableContext call = null;
                        try {
                            call = ctx.withCancel();
                            if (call.isDone()) {
                                return;
                            }
                        } finally {
                            if (call != null) {
                                call.cancel();
                            }
                        }
                    }
                    CancellableContext assignedThenReturned(Context ctx, boolean b) {
                        CancellableContext call;
                        if (b) {
                            call = ctx.withCancel();
                        } else {
                            call = ctx.withTimeout(Duration.ofSeconds(1));
                        }
                        return call;
                    }
                    void declaredInLambda(Context ctx) {
                        Runnable r = () -> {
                            try (CancellableContext call = ctx.withCancel()) {
                                call.isDone();
                            }
                        };
                    }
                    static void closeLater(CancellableContext c) {
                        c.close();
                    }
                }
                """).expectNoDiagnostics().doTest();
    }

    @Test
    void suggestsTryWithResources() {
        BugCheckerRefactoringTestHelper.newInstance(LostCancel.class, getClass())
                .addInputLines("Test.java", """
                        import dev.tether.*;
                        import java.time.Duration;
                        class Test {
                            Object load(Context ctx) throws Exception {
                                CancellableContext call = ctx.withTimeout(Duration.ofSeconds(1));
                                Object result = call.call(() -> "x");
                                return result;
                            }
                        }
                        """)
                .addOutputLines("Test.java", """
                        import dev.tether.*;
                        import java.time.Duration;
                        class Test {
                            Object load(Context ctx) throws Exception {
                                try (CancellableContext call = ctx.withTimeout(Duration.ofSeconds(1))) {
                                    Object result = call.call(() -> "x");
                                    return result;
                                }
                            }
                        }
                        """)
                .doTest();
    }
}
