package dev.tether.lint;

import static com.google.errorprone.BugPattern.LinkType.NONE;
import static com.google.errorprone.BugPattern.SeverityLevel.WARNING;
import static com.google.errorprone.matchers.method.MethodMatchers.instanceMethod;
import static com.google.errorprone.matchers.method.MethodMatchers.staticMethod;

import com.google.errorprone.BugPattern;
import com.google.errorprone.VisitorState;
import com.google.errorprone.bugpatterns.BugChecker;
import com.google.errorprone.bugpatterns.BugChecker.MethodInvocationTreeMatcher;
import com.google.errorprone.bugpatterns.BugChecker.NewClassTreeMatcher;
import com.google.errorprone.fixes.SuggestedFix;
import com.google.errorprone.matchers.Description;
import com.google.errorprone.matchers.Matcher;
import com.google.errorprone.matchers.Matchers;
import com.google.errorprone.util.ASTHelpers;
import com.sun.source.tree.ExpressionTree;
import com.sun.source.tree.IdentifierTree;
import com.sun.source.tree.LambdaExpressionTree;
import com.sun.source.tree.MethodInvocationTree;
import com.sun.source.tree.MethodTree;
import com.sun.source.tree.NewClassTree;
import com.sun.source.tree.Tree;
import com.sun.source.tree.VariableTree;
import com.sun.source.util.TreeScanner;
import com.sun.tools.javac.code.Symbol;
import com.sun.tools.javac.code.Type;
import java.util.List;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * CTX004: work handed to another thread, in a method that has a context, without the context. The task runs with
 * no deadline and no cancellation: it outlives the request that started it, and {@code Context.current()} inside
 * it is background.
 *
 * {@snippet :
 * // bad
 * void handle(Context ctx, Order order) {
 *     executor.submit(() -> audit(order));
 * }
 *
 * // good: bind the context to the task (or use ContextExecutors.propagating(executor), or pass ctx along)
 * void handle(Context ctx, Order order) {
 *     executor.submit(ctx.wrap(() -> audit(order)));
 * }
 * }
 *
 * <p>Flagged: {@code Executor.execute}, {@code ExecutorService.submit/invokeAll/invokeAny},
 * {@code ScheduledExecutorService.schedule*}, {@code CompletableFuture.*Async}, {@code new Thread(task)},
 * {@code Thread.Builder.start/unstarted} ({@code Thread.ofVirtual()}, {@code Thread.ofPlatform()}) and
 * {@code Thread.startVirtualThread}. Not flagged when a task argument is {@code someContext.wrap(..)}, a local
 * variable initialised with one, a lambda or inner class that mentions a context (it passes it on), or when the
 * executor is {@code ContextExecutors.propagating(..)} in the same expression. An executor that propagates but is
 * held in a field cannot be seen: wrap anyway, or suppress with {@code @SuppressWarnings("CTX004")}. Where the task
 * parameter is a Runnable or Callable, the suggested fix wraps the task in {@code ctx.wrap(..)}.
 */
@BugPattern(
        name = "CTX004",
        altNames = "UnpropagatedAsync",
        summary = "async work started without the context in scope: submit ctx.wrap(task)"
                + " (or use ContextExecutors.propagating / pass ctx to the task)",
        severity = WARNING,
        linkType = NONE,
        tags = "tether")
public final class UnpropagatedAsync extends BugChecker
        implements MethodInvocationTreeMatcher, NewClassTreeMatcher {

    private static final long serialVersionUID = 1L;

    private static final Matcher<ExpressionTree> ASYNC = Matchers.anyOf(
            instanceMethod().onDescendantOf("java.util.concurrent.Executor").named("execute"),
            instanceMethod().onDescendantOf("java.util.concurrent.ExecutorService")
                    .namedAnyOf("submit", "invokeAll", "invokeAny"),
            instanceMethod().onDescendantOf("java.util.concurrent.ScheduledExecutorService")
                    .namedAnyOf("schedule", "scheduleAtFixedRate", "scheduleWithFixedDelay"),
            staticMethod().onClass("java.util.concurrent.CompletableFuture").withNameMatching(Pattern.compile(".*Async")),
            instanceMethod().onDescendantOf("java.util.concurrent.CompletionStage")
                    .withNameMatching(Pattern.compile(".*Async")),
            instanceMethod().onDescendantOf("java.lang.Thread.Builder").namedAnyOf("start", "unstarted"),
            staticMethod().onClass("java.lang.Thread").named("startVirtualThread"));

    private static final Matcher<ExpressionTree> PROPAGATING =
            staticMethod().onClass("dev.tether.ContextExecutors").named("propagating");

    @Override
    public Description matchMethodInvocation(MethodInvocationTree tree, VisitorState state) {
        if (!ASYNC.matches(tree, state)) {
            return Description.NO_MATCH;
        }
        ExpressionTree receiver = ASTHelpers.getReceiver(tree);
        if (receiver != null && PROPAGATING.matches(ASTHelpers.stripParentheses(receiver), state)) {
            return Description.NO_MATCH;
        }
        return check(tree, ASTHelpers.getSymbol(tree), tree.getArguments(),
                state.getSourceForNode(tree.getMethodSelect()) + "(..)", state);
    }

    @Override
    public Description matchNewClass(NewClassTree tree, VisitorState state) {
        Symbol.MethodSymbol constructor = ASTHelpers.getSymbol(tree);
        if (constructor == null || !constructor.owner.getQualifiedName().contentEquals("java.lang.Thread")
                || tree.getArguments().stream().noneMatch(a -> isRunnable(a, state))) {
            return Description.NO_MATCH;
        }
        return check(tree, constructor, tree.getArguments(), "new Thread(..)", state);
    }

    private Description check(Tree tree, Symbol.MethodSymbol method, List<? extends ExpressionTree> arguments,
            String what, VisitorState state) {
        if (Tether.inLambdaOrInnerClass(state.getPath())) {
            return Description.NO_MATCH;
        }
        MethodTree enclosing = Tether.enclosingMethod(state.getPath());
        VariableTree parameter = Tether.contextParameter(enclosing, state);
        if (parameter == null) {
            return Description.NO_MATCH;
        }
        for (ExpressionTree argument : arguments) {
            if (carriesContext(ASTHelpers.stripParentheses(argument), enclosing, state)) {
                return Description.NO_MATCH;
            }
        }
        String name = parameter.getName().toString();
        Description.Builder description = buildDescription(tree)
                .setMessage(what + " runs its task without '" + name + "': submit " + name + ".wrap(task),"
                        + " use ContextExecutors.propagating(executor), or pass " + name + " into the task");
        SuggestedFix.Builder fix = SuggestedFix.builder();
        List<Symbol.VarSymbol> parameters = method == null ? List.of() : method.getParameters();
        for (int i = 0; i < arguments.size() && i < parameters.size(); i++) {
            Type type = parameters.get(i).type;
            if (ASTHelpers.isSameType(type, state.getTypeFromString("java.lang.Runnable"), state)
                    || ASTHelpers.isSameType(state.getTypes().erasure(type),
                            state.getTypes().erasure(state.getTypeFromString("java.util.concurrent.Callable")), state)) {
                fix.prefixWith(arguments.get(i), name + ".wrap(").postfixWith(arguments.get(i), ")");
            }
        }
        if (!fix.isEmpty()) {
            description.addFix(fix.build());
        }
        return description.build();
    }

    private static boolean carriesContext(ExpressionTree argument, MethodTree method, VisitorState state) {
        if (Tether.isContextMethod(argument, state, "wrap")) {
            return true;
        }
        if (argument instanceof LambdaExpressionTree || argument instanceof NewClassTree) {
            return Tether.mentionsContext(argument, state);
        }
        if (argument instanceof IdentifierTree identifier) {
            VariableTree declaration = localDeclaration(ASTHelpers.getSymbol(identifier), method);
            return declaration != null && declaration.getInitializer() != null
                    && Tether.isContextMethod(ASTHelpers.stripParentheses(declaration.getInitializer()), state, "wrap");
        }
        return false;
    }

    private static @Nullable VariableTree localDeclaration(@Nullable Symbol symbol, MethodTree method) {
        if (symbol == null) {
            return null;
        }
        VariableTree[] found = {null};
        new TreeScanner<Void, Void>() {
            @Override
            public Void visitVariable(VariableTree node, Void unused) {
                if (symbol.equals(ASTHelpers.getSymbol(node))) {
                    found[0] = node;
                }
                return super.visitVariable(node, unused);
            }
        }.scan(method.getBody(), null);
        return found[0];
    }

    private static boolean isRunnable(ExpressionTree argument, VisitorState state) {
        return Tether.isSubtypeOf(ASTHelpers.getType(argument), "java.lang.Runnable", state);
    }
}
