package dev.tether.lint;

import static com.google.errorprone.BugPattern.LinkType.NONE;
import static com.google.errorprone.BugPattern.SeverityLevel.WARNING;
import static com.google.errorprone.matchers.method.MethodMatchers.instanceMethod;
import static com.google.errorprone.matchers.method.MethodMatchers.staticMethod;

import com.google.errorprone.BugPattern;
import com.google.errorprone.VisitorState;
import com.google.errorprone.bugpatterns.BugChecker;
import com.google.errorprone.bugpatterns.BugChecker.MethodInvocationTreeMatcher;
import com.google.errorprone.matchers.Description;
import com.google.errorprone.matchers.Matcher;
import com.google.errorprone.matchers.Matchers;
import com.sun.source.tree.ExpressionTree;
import com.sun.source.tree.MethodInvocationTree;
import com.sun.source.tree.MethodTree;
import com.sun.source.tree.VariableTree;
import com.sun.source.util.TreeScanner;

/**
 * CTX005: a blocking call that ignores the context, in a method that has one. The wait goes on after the context
 * is cancelled or its deadline has passed (Go's noctx, for blocking calls).
 *
 * {@snippet :
 * // bad: waits forever though ctx may be long done
 * Result handle(Context ctx, Future<Result> pending) throws Exception {
 *     return pending.get();
 * }
 *
 * // good: bound the wait by what is left of the context
 * Result handle(Context ctx, Future<Result> pending) throws Exception {
 *     Duration left = ctx.remaining().orElse(Duration.ofSeconds(30));
 *     return pending.get(left.toNanos(), TimeUnit.NANOSECONDS);
 * }
 * }
 *
 * <p>Flagged: {@code Thread.sleep}, {@code Thread.join()}, {@code BlockingQueue.take/put},
 * {@code Future.get()} without a timeout, {@code CompletableFuture.join()}, {@code CountDownLatch.await()},
 * {@code CyclicBarrier.await()}, {@code Semaphore.acquire}, {@code Condition.await()}, {@code HttpClient.send}
 * — directly in a method with a Context parameter (lambdas and inner classes, which may run elsewhere, are not
 * searched). Timed variants are fine, and so is a method that hooks the context's end itself
 * ({@code ctx.onDone(caller::interrupt)}, {@code ctx.done()}): its waits end when the context does.
 */
@BugPattern(
        name = "CTX005",
        altNames = "BlockingIgnoresContext",
        summary = "blocking call ignores the context in scope: bound it by ctx.remaining() or wait on ctx.done()",
        severity = WARNING,
        linkType = NONE,
        tags = "tether")
public final class BlockingCall extends BugChecker implements MethodInvocationTreeMatcher {

    private static final long serialVersionUID = 1L;

    private static final Matcher<ExpressionTree> BLOCKING = Matchers.anyOf(
            staticMethod().onClass("java.lang.Thread").named("sleep"),
            instanceMethod().onDescendantOf("java.lang.Thread").named("join").withNoParameters(),
            instanceMethod().onDescendantOf("java.util.concurrent.BlockingQueue").namedAnyOf("take", "put"),
            instanceMethod().onDescendantOf("java.util.concurrent.Future").named("get").withNoParameters(),
            instanceMethod().onDescendantOf("java.util.concurrent.CompletableFuture").named("join"),
            instanceMethod().onDescendantOf("java.util.concurrent.CountDownLatch").named("await").withNoParameters(),
            instanceMethod().onDescendantOf("java.util.concurrent.CyclicBarrier").named("await").withNoParameters(),
            instanceMethod().onDescendantOf("java.util.concurrent.Semaphore")
                    .namedAnyOf("acquire", "acquireUninterruptibly"),
            instanceMethod().onDescendantOf("java.util.concurrent.locks.Condition").named("await").withNoParameters(),
            instanceMethod().onDescendantOf("java.net.http.HttpClient").named("send"));

    /** A method that hooks the context's end (e.g. {@code ctx.onDone(thread::interrupt)}) bounds its waits itself. */
    private static boolean registersOnDone(MethodTree method, VisitorState state) {
        boolean[] found = {false};
        new TreeScanner<Void, Void>() {
            @Override
            public Void visitMethodInvocation(MethodInvocationTree node, Void unused) {
                found[0] |= Tether.isContextMethod(node, state, "onDone", "done");
                return super.visitMethodInvocation(node, unused);
            }
        }.scan(method.getBody(), null);
        return found[0];
    }

    @Override
    public Description matchMethodInvocation(MethodInvocationTree tree, VisitorState state) {
        if (!BLOCKING.matches(tree, state) || Tether.inLambdaOrInnerClass(state.getPath())) {
            return Description.NO_MATCH;
        }
        MethodTree method = Tether.enclosingMethod(state.getPath());
        VariableTree parameter = Tether.contextParameter(method, state);
        if (parameter == null || registersOnDone(method, state)) {
            return Description.NO_MATCH;
        }
        return buildDescription(tree)
                .setMessage(state.getSourceForNode(tree.getMethodSelect()) + "(..) blocks regardless of '"
                        + parameter.getName() + "': bound the wait by " + parameter.getName()
                        + ".remaining() (a timed variant) or wait on " + parameter.getName() + ".done()")
                .build();
    }
}
