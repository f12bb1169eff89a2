package dev.tether.lint;

import static com.google.errorprone.BugPattern.LinkType.NONE;
import static com.google.errorprone.BugPattern.SeverityLevel.WARNING;

import com.google.errorprone.BugPattern;
import com.google.errorprone.VisitorState;
import com.google.errorprone.bugpatterns.BugChecker;
import com.google.errorprone.bugpatterns.BugChecker.ReturnTreeMatcher;
import com.google.errorprone.matchers.Description;
import com.google.errorprone.util.ASTHelpers;
import com.sun.source.tree.ClassTree;
import com.sun.source.tree.IdentifierTree;
import com.sun.source.tree.LambdaExpressionTree;
import com.sun.source.tree.MethodTree;
import com.sun.source.tree.ReturnTree;
import com.sun.source.tree.Tree;
import com.sun.source.tree.TryTree;
import com.sun.source.tree.VariableTree;
import com.sun.source.util.TreePath;
import com.sun.source.util.TreeScanner;
import com.sun.tools.javac.code.Symbol;
import com.sun.tools.javac.code.Type;

/**
 * CTX012: a Future or CompletionStage returned from inside the try-with-resources that closes the context it runs
 * under. The return leaves the block, {@code close()} cancels the context, and the caller receives work that was
 * cancelled before it could finish.
 *
 * {@snippet :
 * // bad: the task starts under 'call', which is cancelled as the future is returned
 * Future<User> load(Context ctx) {
 *     try (CancellableContext call = ctx.withTimeout(Duration.ofSeconds(2))) {
 *         return executor.submit(call.wrap(() -> repository.load()));
 *     }
 * }
 *
 * // good: wait inside the block, or hand the context to the caller together with the future
 * User load(Context ctx) throws Exception {
 *     try (CancellableContext call = ctx.withTimeout(Duration.ofSeconds(2))) {
 *         return executor.submit(call.wrap(() -> repository.load())).get();
 *     }
 * }
 * }
 *
 * <p>Flagged when the returned expression's type is a Future or CompletionStage and it mentions the resource.
 */
@BugPattern(
        name = "CTX012",
        altNames = "CancelBeforeAsync",
        summary = "future returned from the try-with-resources that cancels its context: wait inside the block,"
                + " or give the caller the context to close",
        severity = WARNING,
        linkType = NONE,
        tags = "tether")
public final class CancelBeforeAsync extends BugChecker implements ReturnTreeMatcher {

    private static final long serialVersionUID = 1L;

    @Override
    public Description matchReturn(ReturnTree tree, VisitorState state) {
        if (tree.getExpression() == null) {
            return Description.NO_MATCH;
        }
        Type type = ASTHelpers.getType(tree.getExpression());
        if (!Tether.isSubtypeOf(type, "java.util.concurrent.Future", state)
                && !Tether.isSubtypeOf(type, "java.util.concurrent.CompletionStage", state)) {
            return Description.NO_MATCH;
        }
        Tree child = tree;
        for (TreePath p = state.getPath().getParentPath(); p != null; p = p.getParentPath()) {
            Tree leaf = p.getLeaf();
            if (leaf instanceof LambdaExpressionTree || leaf instanceof MethodTree || leaf instanceof ClassTree) {
                return Description.NO_MATCH;
            }
            if (leaf instanceof TryTree tryTree && child == tryTree.getBlock()) {
                for (Tree resource : tryTree.getResources()) {
                    Symbol symbol = resource instanceof VariableTree v ? ASTHelpers.getSymbol(v)
                            : ASTHelpers.getSymbol(resource);
                    if (symbol != null && Tether.isSubtypeOf(symbol.type, Tether.CANCELLABLE, state)
                            && mentions(tree.getExpression(), symbol)) {
                        return buildDescription(tree)
                                .setMessage("the returned future runs under '" + symbol.getSimpleName() + "', which"
                                        + " this try-with-resources cancels as the return leaves it: wait inside"
                                        + " the block, or give the caller the context to close")
                                .build();
                    }
                }
            }
            child = leaf;
        }
        return Description.NO_MATCH;
    }

    private static boolean mentions(Tree tree, Symbol symbol) {
        boolean[] found = {false};
        new TreeScanner<Void, Void>() {
            @Override
            public Void visitIdentifier(IdentifierTree node, Void unused) {
                found[0] |= symbol.equals(ASTHelpers.getSymbol(node));
                return null;
            }
        }.scan(tree, null);
        return found[0];
    }
}
