package dev.tether.lint;

import static com.google.errorprone.BugPattern.LinkType.NONE;
import static com.google.errorprone.BugPattern.SeverityLevel.WARNING;

import com.google.errorprone.BugPattern;
import com.google.errorprone.VisitorState;
import com.google.errorprone.bugpatterns.BugChecker;
import com.google.errorprone.bugpatterns.BugChecker.AssignmentTreeMatcher;
import com.google.errorprone.matchers.Description;
import com.google.errorprone.util.ASTHelpers;
import com.sun.source.tree.AssignmentTree;
import com.sun.source.tree.ClassTree;
import com.sun.source.tree.DoWhileLoopTree;
import com.sun.source.tree.EnhancedForLoopTree;
import com.sun.source.tree.ExpressionTree;
import com.sun.source.tree.ForLoopTree;
import com.sun.source.tree.LambdaExpressionTree;
import com.sun.source.tree.MethodInvocationTree;
import com.sun.source.tree.MethodTree;
import com.sun.source.tree.Tree;
import com.sun.source.tree.WhileLoopTree;
import com.sun.source.util.TreePath;
import com.sun.tools.javac.code.Symbol;
import java.util.Objects;

/**
 * CTX010: {@code ctx = ctx.withValue(...)} (or any derivation) inside a loop. Each iteration nests one level deeper,
 * so lookups and cancellation get slower and everything derived stays reachable (Go's fatcontext).
 *
 * {@snippet :
 * // bad
 * for (Item item : items) {
 *     ctx = ctx.withValue(ITEM, item);
 *     process(ctx);
 * }
 *
 * // good: derive each child from the loop-invariant parent
 * for (Item item : items) {
 *     process(ctx.withValue(ITEM, item));
 * }
 * }
 */
@BugPattern(
        name = "CTX010",
        altNames = "RederivedInLoop",
        summary = "Context re-derived in a loop grows the chain every iteration: derive a fresh child from the"
                + " loop-invariant parent instead",
        severity = WARNING,
        linkType = NONE,
        tags = "tether")
public final class RederivedInLoop extends BugChecker implements AssignmentTreeMatcher {

    private static final long serialVersionUID = 1L;

    @Override
    public Description matchAssignment(AssignmentTree tree, VisitorState state) {
        Symbol variable = ASTHelpers.getSymbol(tree.getVariable());
        if (variable == null || !Tether.isContext(variable.type, state) || !inLoop(state.getPath())) {
            return Description.NO_MATCH;
        }
        ExpressionTree expression = ASTHelpers.stripParentheses(tree.getExpression());
        while (expression instanceof MethodInvocationTree call) {
            if (!Tether.isContextMethod(call, state, "withValue", "withCancel", "withTimeout", "withDeadline",
                    "withoutCancel")) {
                return Description.NO_MATCH;
            }
            ExpressionTree receiver = ASTHelpers.getReceiver(call);
            if (receiver == null) {
                return Description.NO_MATCH;
            }
            expression = ASTHelpers.stripParentheses(receiver);
        }
        if (!Objects.equals(ASTHelpers.getSymbol(expression), variable) || expression == tree.getExpression()) {
            return Description.NO_MATCH;
        }
        return buildDescription(tree)
                .setMessage("'" + variable.getSimpleName() + "' is re-derived from itself in a loop, so the chain"
                        + " grows every iteration: derive a fresh child from the loop-invariant parent")
                .build();
    }

    private static boolean inLoop(TreePath path) {
        for (TreePath p = path.getParentPath(); p != null; p = p.getParentPath()) {
            Tree leaf = p.getLeaf();
            if (leaf instanceof ForLoopTree || leaf instanceof EnhancedForLoopTree || leaf instanceof WhileLoopTree
                    || leaf instanceof DoWhileLoopTree) {
                return true;
            }
            if (leaf instanceof MethodTree || leaf instanceof LambdaExpressionTree || leaf instanceof ClassTree) {
                return false;
            }
        }
        return false;
    }
}
