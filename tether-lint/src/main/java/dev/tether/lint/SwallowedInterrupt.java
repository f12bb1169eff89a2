package dev.tether.lint;

import static com.google.errorprone.BugPattern.LinkType.NONE;
import static com.google.errorprone.BugPattern.SeverityLevel.WARNING;

import com.google.errorprone.BugPattern;
import com.google.errorprone.VisitorState;
import com.google.errorprone.bugpatterns.BugChecker;
import com.google.errorprone.bugpatterns.BugChecker.CatchTreeMatcher;
import com.google.errorprone.fixes.SuggestedFix;
import com.google.errorprone.matchers.Description;
import com.google.errorprone.util.ASTHelpers;
import com.sun.source.tree.AssignmentTree;
import com.sun.source.tree.CatchTree;
import com.sun.source.tree.ExpressionTree;
import com.sun.source.tree.LiteralTree;
import com.sun.source.tree.ClassTree;
import com.sun.source.tree.LambdaExpressionTree;
import com.sun.source.tree.MethodInvocationTree;
import com.sun.source.tree.ThrowTree;
import com.sun.source.tree.Tree;
import com.sun.source.tree.UnionTypeTree;
import com.sun.source.util.TreeScanner;
import com.sun.tools.javac.code.Symbol;
import com.sun.tools.javac.code.Type;

/**
 * CTX011: {@code InterruptedException} caught and neither rethrown nor the interrupt flag restored. Interruption
 * is how cancellation reaches blocked threads (Tether's propagating executors, {@code Future.cancel(true)},
 * structured concurrency); swallowing it keeps a cancelled task running.
 *
 * {@snippet :
 * // bad
 * try { queue.put(item); } catch (InterruptedException e) { log.warn("interrupted", e); }
 *
 * // good
 * try { queue.put(item); } catch (InterruptedException e) {
 *     Thread.currentThread().interrupt();
 *     throw new ContextCancelledException("interrupted", e);   // or return, now that the flag is set
 * }
 * }
 *
 * <p>Any {@code throw} in the handler counts as propagation; a call to {@code interrupt()} on any Thread counts as
 * restoring; assigning {@code true} or the caught exception to a variable counts as deferring (the
 * {@code interrupted = true} idiom of loops that restore the flag once they are done), which the rule trusts. Broad catches ({@code Exception}) are left to Error Prone's own InterruptedExceptionSwallowed. The
 * suggested fix restores the flag first thing in the handler.
 */
@BugPattern(
        name = "CTX011",
        altNames = "SwallowedInterrupt",
        summary = "InterruptedException swallowed: call Thread.currentThread().interrupt() or rethrow",
        severity = WARNING,
        linkType = NONE,
        tags = "tether")
public final class SwallowedInterrupt extends BugChecker implements CatchTreeMatcher {

    private static final long serialVersionUID = 1L;

    @Override
    public Description matchCatch(CatchTree tree, VisitorState state) {
        Tree caught = tree.getParameter().getType();
        Type interrupted = state.getTypeFromString("java.lang.InterruptedException");
        boolean catchesInterrupt = false;
        if (caught instanceof UnionTypeTree union) {
            for (Tree alternative : union.getTypeAlternatives()) {
                catchesInterrupt |= ASTHelpers.isSameType(ASTHelpers.getType(alternative), interrupted, state);
            }
        } else {
            catchesInterrupt = ASTHelpers.isSameType(ASTHelpers.getType(caught), interrupted, state);
        }
        if (!catchesInterrupt || handles(tree.getBlock(), ASTHelpers.getSymbol(tree.getParameter()))) {
            return Description.NO_MATCH;
        }
        SuggestedFix fix = tree.getBlock().getStatements().isEmpty()
                ? SuggestedFix.replace(tree.getBlock(), "{\n  Thread.currentThread().interrupt();\n}")
                : SuggestedFix.prefixWith(tree.getBlock().getStatements().get(0), "Thread.currentThread().interrupt();\n");
        return buildDescription(tree.getParameter()).addFix(fix).build();
    }

    private static boolean handles(Tree block, Symbol caught) {
        boolean[] handled = {false};
        new TreeScanner<Void, Void>() {
            /** Deferring: {@code interrupted = true} or {@code failure = e}, to restore or rethrow after a loop. */
            @Override
            public Void visitAssignment(AssignmentTree node, Void unused) {
                ExpressionTree value = node.getExpression();
                if ((value instanceof LiteralTree literal && Boolean.TRUE.equals(literal.getValue()))
                        || (caught != null && caught.equals(ASTHelpers.getSymbol(value)))) {
                    handled[0] = true;
                }
                return super.visitAssignment(node, unused);
            }

            @Override
            public Void visitThrow(ThrowTree node, Void unused) {
                handled[0] = true;
                return null;
            }

            @Override
            public Void visitMethodInvocation(MethodInvocationTree node, Void unused) {
                Symbol.MethodSymbol symbol = ASTHelpers.getSymbol(node);
                if (symbol != null && symbol.getSimpleName().contentEquals("interrupt")
                        && symbol.owner.getQualifiedName().contentEquals("java.lang.Thread")) {
                    handled[0] = true;
                }
                return super.visitMethodInvocation(node, unused);
            }

            @Override
            public Void visitLambdaExpression(LambdaExpressionTree node, Void unused) {
                return null; // runs elsewhere, later
            }

            @Override
            public Void visitClass(ClassTree node, Void unused) {
                return null;
            }
        }.scan(block, null);
        return handled[0];
    }
}
