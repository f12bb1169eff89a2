package dev.tether.lint;

import com.google.errorprone.BugCheckerRefactoringTestHelper;
import com.google.errorprone.CompilationTestHelper;
import org.junit.jupiter.api.Test;

/** Flag and no-flag cases for CTX002..CTX012; CTX001 has its own class. */
class RulesTest {

    private CompilationTestHelper helper(Class<? extends com.google.errorprone.bugpatterns.BugChecker> check) {
        return CompilationTestHelper.newInstance(check, getClass());
    }

    @Test
    void ctx002_flagsRootsWhereAContextIsInScope() {
        helper(RootInScope.class).addSourceLines("Test.java", """
                import dev.tether.*;
                class Test {
                    void parameter(Context ctx) {
                        // BUG: Diagnostic contains: CTX002
                        Context.background().withCancel().cancel();
                    }
                    void current() {
                        Context here = Context.current();
                        // BUG: Diagnostic contains: cuts the cancel chain of Context.current()
                        Context root = Context.todo();
                    }
                    void inLambda(Context ctx) {
                        // BUG: Diagnostic contains: CTX002
                        Runnable r = () -> Context.background().isDone();
                    }
                    void noContext() {
                        Context root = Context.background();
                    }
                    boolean comparison(Context ctx) {
                        return ctx == Context.background();
                    }
                    public static void main(String[] args) {
                        Context.todo().isDone();
                    }
                }
                """).doTest();
    }

    @Test
    void ctx002_fixNamesTheParameter() {
        BugCheckerRefactoringTestHelper.newInstance(RootInScope.class, getClass())
                .addInputLines("Test.java", """
                        import dev.tether.*;
                        class Test {
                            boolean run(Context ctx) { return Context.background().isDone(); }
                        }
                        """)
                .addOutputLines("Test.java", """
                        import dev.tether.*;
                        class Test {
                            boolean run(Context ctx) { return ctx.isDone(); }
                        }
                        """)
                .doTest();
    }

    @Test
    void ctx003_flagsNullPassedOrReturned() {
        helper(NullContext.class).addSourceLines("Test.java", """
                import dev.tether.*;
                class Test {
                    static void load(Context ctx, String id) {}
                    static void close(CancellableContext c) {}
                    static void optional(@org.jspecify.annotations.Nullable Context parent) {}
                    Test(Context ctx) {}
                    void calls() {
                        // BUG: Diagnostic contains: null passed as 'ctx'
                        load(null, "id");
                        // BUG: Diagnostic contains: CTX003
                        close((null));
                        // BUG: Diagnostic contains: CTX003
                        new Test(null);
                        load(Context.todo(), null);
                        optional(null);
                    }
                    Context none() {
                        // BUG: Diagnostic contains: null returned as a Context
                        return null;
                    }
                    String other() {
                        return null;
                    }
                    java.util.function.Supplier<String> lambda() {
                        return () -> null;
                    }
                }
                """).doTest();
    }

    @Test
    void ctx003_fixPassesTodo() {
        BugCheckerRefactoringTestHelper.newInstance(NullContext.class, getClass())
                .addInputLines("Test.java", """
                        class Test {
                            static void load(dev.tether.Context ctx) {}
                            void call() { load(null); }
                        }
                        """)
                .addOutputLines("Test.java", """
                        import dev.tether.Context;
                        class Test {
                            static void load(dev.tether.Context ctx) {}
                            void call() { load(Context.todo()); }
                        }
                        """)
                .doTest();
    }

    @Test
    void ctx004_flagsAsyncWorkThatDropsTheContext() {
        helper(UnpropagatedAsync.class).addSourceLines("Test.java", """
                import dev.tether.*;
                import java.util.concurrent.*;
                class Test {
                    void bad(Context ctx, ExecutorService executor, Runnable task) throws Exception {
                        // BUG: Diagnostic contains: CTX004
                        executor.submit(() -> System.out.println("x"));
                        // BUG: Diagnostic contains: CTX004
                        executor.execute(task);
                        // BUG: Diagnostic contains: CTX004
                        CompletableFuture.runAsync(task);
                        // BUG: Diagnostic contains: CTX004
                        CompletableFuture.supplyAsync(() -> 1).thenApplyAsync(i -> i + 1);
                        // BUG: Diagnostic contains: CTX004
                        new Thread(task).start();
                        // BUG: Diagnostic contains: CTX004
                        Thread.ofVirtual().start(task);
                        // BUG: Diagnostic contains: CTX004
                        Thread.startVirtualThread(this::work);
                    }
                    void good(Context ctx, ExecutorService executor, Runnable task) {
                        executor.submit(ctx.wrap(task));
                        executor.execute(Context.current().wrap(task));
                        executor.submit(() -> ctx.run(task));
                        Runnable wrapped = ctx.wrap(task);
                        Thread.ofVirtual().start(wrapped);
                        ContextExecutors.propagating(executor).submit(task);
                        CompletableFuture.runAsync(ctx.wrap(task));
                    }
                    void noContext(ExecutorService executor, Runnable task) {
                        executor.submit(task);
                        new Thread(task).start();
                    }
                    void work() {}
                }
                """).doTest();
    }

    @Test
    void ctx004_fixWrapsTheTask() {
        BugCheckerRefactoringTestHelper.newInstance(UnpropagatedAsync.class, getClass())
                .addInputLines("Test.java", """
                        import dev.tether.*;
                        import java.util.concurrent.*;
                        class Test {
                            void run(Context request, ExecutorService executor, Runnable task) {
                                executor.submit(() -> System.out.println("x"));
                                executor.submit(() -> "value");
                                new Thread(task).start();
                            }
                        }
                        """)
                .addOutputLines("Test.java", """
                        import dev.tether.*;
                        import java.util.concurrent.*;
                        class Test {
                            void run(Context request, ExecutorService executor, Runnable task) {
                                executor.submit(request.wrap(() -> System.out.println("x")));
                                executor.submit(request.wrap(() -> "value"));
                                new Thread(request.wrap(task)).start();
                            }
                        }
                        """)
                .doTest();
    }

    @Test
    void ctx002_fixUsesCurrentWhenThereIsNoParameter() {
        BugCheckerRefactoringTestHelper.newInstance(RootInScope.class, getClass())
                .addInputLines("Test.java", """
                        import dev.tether.*;
                        class Test {
                            boolean run() { Context.current().isDone(); return Context.todo().isDone(); }
                        }
                        """)
                .addOutputLines("Test.java", """
                        import dev.tether.*;
                        class Test {
                            boolean run() { Context.current().isDone(); return Context.current().isDone(); }
                        }
                        """)
                .doTest();
    }

    @Test
    void ctx005_flagsBlockingCallsThatIgnoreTheContext() {
        helper(BlockingCall.class).addSourceLines("Test.java", """
                import dev.tether.*;
                import java.util.concurrent.*;
                class Test {
                    Object bad(Context ctx, Future<Object> f, BlockingQueue<Object> q, CountDownLatch latch,
                            Semaphore permits) throws Exception {
                        // BUG: Diagnostic contains: CTX005
                        Thread.sleep(10);
                        // BUG: Diagnostic contains: CTX005
                        q.take();
                        // BUG: Diagnostic contains: CTX005
                        latch.await();
                        // BUG: Diagnostic contains: CTX005
                        permits.acquire();
                        // BUG: Diagnostic contains: f.get(..) blocks regardless of 'ctx'
                        return f.get();
                    }
                    Object good(Context ctx, Future<Object> f, BlockingQueue<Object> q, CountDownLatch latch)
                            throws Exception {
                        q.poll(1, TimeUnit.SECONDS);
                        latch.await(1, TimeUnit.SECONDS);
                        Runnable later = () -> { try { Thread.sleep(1); } catch (InterruptedException e) { } };
                        return f.get(1, TimeUnit.SECONDS);
                    }
                    void interruptedByTheContext(Context ctx, BlockingQueue<Object> q) throws Exception {
                        Thread caller = Thread.currentThread();
                        ctx.onDone(caller::interrupt, Runnable::run);
                        q.take();
                    }
                    Object noContext(Future<Object> f) throws Exception {
                        Thread.sleep(10);
                        return f.get();
                    }
                }
                """).doTest();
    }

    @Test
    void ctx007_flagsContextFieldsUnlessAllowListed() {
        helper(ContextField.class).addSourceLines("Test.java", """
                import dev.tether.*;
                class Test {
                    // BUG: Diagnostic contains: field 'ctx' stores a Context
                    private final Context ctx = Context.background();
                    // BUG: Diagnostic contains: CTX007
                    CancellableContext call;
                    static final Context ROOT = Context.background();
                    void method(Context parameter) {
                        Context local = parameter;
                    }
                    // BUG: Diagnostic contains: CTX007
                    record Request(Context ctx, String path) {}
                }
                """).doTest();
        helper(ContextField.class)
                .setArgs("-XepOpt:CTX007:AllowedClasses=p.Holder,q.*")
                .addSourceLines("p/Holder.java", """
                        package p;
                        class Holder {
                            dev.tether.Context ctx;
                            static class Nested { dev.tether.Context ctx; }
                        }
                        """)
                .addSourceLines("q/Task.java", """
                        package q;
                        class Task { dev.tether.Context ctx; }
                        """)
                .addSourceLines("q/sub/Task.java", """
                        package q.sub;
                        class Task {
                            // BUG: Diagnostic contains: CTX007
                            dev.tether.Context ctx;
                        }
                        """)
                .doTest();
    }

    @Test
    void ctx008_flagsKeysOutsideStaticFinalFields() {
        helper(InlineKey.class).addSourceLines("Test.java", """
                import dev.tether.*;
                class Test {
                    private static final Key<String> USER = Key.of("user");
                    private static final Key<String> LATE;
                    static {
                        LATE = Key.of("late");
                    }
                    interface Keys {
                        Key<String> TENANT = Key.of("tenant");
                    }
                    // BUG: Diagnostic contains: CTX008
                    private final Key<String> perInstance = Key.of("x");
                    // BUG: Diagnostic contains: CTX008
                    private static Key<String> mutable = Key.of("x");
                    Context inline(Context ctx) {
                        // BUG: Diagnostic contains: CTX008
                        Key<String> local = Key.of("local");
                        // BUG: Diagnostic contains: CTX008
                        return ctx.withValue(Key.of("user"), "alice");
                    }
                }
                """).doTest();
    }

    @Test
    void ctx010_flagsContextRederivedInALoop() {
        helper(RederivedInLoop.class).addSourceLines("Test.java", """
                import dev.tether.*;
                import java.util.List;
                class Test {
                    private static final Key<String> ITEM = Key.of("item");
                    void bad(Context ctx, List<String> items) {
                        for (String item : items) {
                            // BUG: Diagnostic contains: CTX010
                            ctx = ctx.withValue(ITEM, item);
                        }
                        int i = 0;
                        while (i++ < 3) {
                            // BUG: Diagnostic contains: CTX010
                            ctx = ctx.withoutCancel().withValue(ITEM, "x");
                        }
                    }
                    void good(Context ctx, List<String> items) {
                        ctx = ctx.withValue(ITEM, "outside");
                        Context parent = ctx;
                        for (String item : items) {
                            Context child = parent.withValue(ITEM, item);
                            ctx = parent.withValue(ITEM, item);
                            Runnable r = () -> { Context c = Context.current(); c = c.withValue(ITEM, item); };
                        }
                    }
                }
                """).doTest();
    }

    @Test
    void ctx011_flagsSwallowedInterrupts() {
        helper(SwallowedInterrupt.class).addSourceLines("Test.java", """
                class Test {
                    void bad() {
                        try {
                            Thread.sleep(1);
                        // BUG: Diagnostic contains: CTX011
                        } catch (InterruptedException e) {
                            System.out.println(e);
                        }
                        try {
                            Thread.sleep(1);
                        // BUG: Diagnostic contains: CTX011
                        } catch (InterruptedException | RuntimeException e) {
                            Runnable later = () -> Thread.currentThread().interrupt();
                        }
                    }
                    void good() throws InterruptedException {
                        try {
                            Thread.sleep(1);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        try {
                            Thread.sleep(1);
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                        try {
                            Thread.sleep(1);
                        } catch (InterruptedException e) {
                            throw e;
                        }
                        try {
                            Thread.sleep(1);
                        } catch (Exception e) {
                            // broad catches are Error Prone's InterruptedExceptionSwallowed
                        }
                        boolean interrupted = false;
                        while (true) {
                            try {
                                Thread.sleep(1);
                                break;
                            } catch (InterruptedException e) {
                                interrupted = true; // deferred: restored after the loop
                            }
                        }
                        if (interrupted) {
                            Thread.currentThread().interrupt();
                        }
                        InterruptedException failure;
                        try {
                            Thread.sleep(1);
                            failure = null;
                        } catch (InterruptedException e) {
                            failure = e; // deferred: handled below
                        }
                        if (failure != null) {
                            throw failure;
                        }
                    }
                }
                """).doTest();
    }

    @Test
    void ctx011_fixRestoresTheFlag() {
        BugCheckerRefactoringTestHelper.newInstance(SwallowedInterrupt.class, getClass())
                .addInputLines("Test.java", """
                        class Test {
                            void run() {
                                try { Thread.sleep(1); } catch (InterruptedException e) { System.out.println(e); }
                            }
                        }
                        """)
                .addOutputLines("Test.java", """
                        class Test {
                            void run() {
                                try { Thread.sleep(1); } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                    System.out.println(e);
                                }
                            }
                        }
                        """)
                .doTest();
    }
}
