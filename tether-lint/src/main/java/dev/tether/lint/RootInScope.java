package dev.tether.lint;

import static com.google.errorprone.BugPattern.LinkType.NONE;
import static com.google.errorprone.BugPattern.SeverityLevel.WARNING;

import com.google.errorprone.BugPattern;
import com.google.errorprone.VisitorState;
import com.google.errorprone.bugpatterns.BugChecker;
import com.google.errorprone.bugpatterns.BugChecker.MethodInvocationTreeMatcher;
import com.google.errorprone.fixes.SuggestedFix;
import com.google.errorprone.matchers.Description;
import com.google.errorprone.util.ASTHelpers;
import com.sun.source.tree.BinaryTree;
import com.sun.source.tree.MemberSelectTree;
import com.sun.source.tree.MethodInvocationTree;
import com.sun.source.tree.MethodTree;
import com.sun.source.tree.VariableTree;
import com.sun.tools.javac.code.Symbol;

/**
 * CTX002: {@code Context.background()} or {@code todo()} where a context is already in scope, which cuts the cancel
 * chain: the work no longer stops when the caller's context ends, and loses its deadline and values (contextcheck).
 *
 * {@snippet :
 * // bad
 * void handle(Context ctx, Request request) {
 *     try (CancellableContext call = Context.background().withTimeout(Duration.ofSeconds(1))) { ... }
 * }
 *
 * // good: derive from the context in scope; ctx.withoutCancel() when outliving it is the point
 * void handle(Context ctx, Request request) {
 *     try (CancellableContext call = ctx.withTimeout(Duration.ofSeconds(1))) { ... }
 * }
 * }
 *
 * <p>"In scope" means the enclosing method has a Context parameter or calls {@code Context.current()}; comparisons
 * such as {@code ctx == Context.background()} are not flagged. The suggested fix names the parameter, or calls
 * {@code Context.current()}.
 */
@BugPattern(
        name = "CTX002",
        altNames = "RootInScope",
        summary = "Context.background()/todo() cuts the cancel chain: derive from the context in scope"
                + " (or ctx.withoutCancel() to outlive it on purpose)",
        severity = WARNING,
        linkType = NONE,
        tags = "tether")
public final class RootInScope extends BugChecker implements MethodInvocationTreeMatcher {

    private static final long serialVersionUID = 1L;

    @Override
    public Description matchMethodInvocation(MethodInvocationTree tree, VisitorState state) {
        Symbol.MethodSymbol symbol = ASTHelpers.getSymbol(tree);
        if (symbol == null || !symbol.isStatic() || !symbol.owner.getQualifiedName().contentEquals(Tether.CONTEXT)) {
            return Description.NO_MATCH;
        }
        String name = symbol.getSimpleName().toString();
        if (!name.equals("background") && !name.equals("todo")) {
            return Description.NO_MATCH;
        }
        if (state.getPath().getParentPath().getLeaf() instanceof BinaryTree) {
            return Description.NO_MATCH; // ctx == Context.background(): a question, not a new root
        }
        MethodTree method = Tether.enclosingMethod(state.getPath());
        VariableTree parameter = Tether.contextParameter(method, state);
        if (parameter != null) {
            return buildDescription(tree)
                    .setMessage("Context." + name + "() cuts the cancel chain of '" + parameter.getName()
                            + "': derive from it (or use " + parameter.getName() + ".withoutCancel() to outlive it)")
                    .addFix(SuggestedFix.replace(tree, parameter.getName().toString()))
                    .build();
        }
        if (method != null && Tether.callsCurrent(method.getBody())) {
            Description.Builder description = buildDescription(tree)
                    .setMessage("Context." + name + "() cuts the cancel chain of Context.current() used in this"
                            + " method: derive from Context.current() instead");
            if (tree.getMethodSelect() instanceof MemberSelectTree select) {
                description.addFix(SuggestedFix.replace(tree,
                        state.getSourceForNode(select.getExpression()) + ".current()"));
            }
            return description.build();
        }
        return Description.NO_MATCH;
    }
}
