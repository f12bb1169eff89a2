package dev.tether.lint;

import static com.google.errorprone.BugPattern.LinkType.NONE;
import static com.google.errorprone.BugPattern.SeverityLevel.WARNING;

import com.google.errorprone.BugPattern;
import com.google.errorprone.VisitorState;
import com.google.errorprone.bugpatterns.BugChecker;
import com.google.errorprone.bugpatterns.BugChecker.MethodInvocationTreeMatcher;
import com.google.errorprone.bugpatterns.BugChecker.NewClassTreeMatcher;
import com.google.errorprone.bugpatterns.BugChecker.ReturnTreeMatcher;
import com.google.errorprone.fixes.SuggestedFix;
import com.google.errorprone.matchers.Description;
import com.google.errorprone.util.ASTHelpers;
import com.sun.source.tree.ExpressionTree;
import com.sun.source.tree.LambdaExpressionTree;
import com.sun.source.tree.MethodInvocationTree;
import com.sun.source.tree.MethodTree;
import com.sun.source.tree.NewClassTree;
import com.sun.source.tree.ReturnTree;
import com.sun.source.tree.Tree;
import com.sun.source.util.TreePath;
import com.sun.tools.javac.code.Symbol;
import com.sun.tools.javac.code.Type;
import java.util.List;
import java.util.stream.Stream;
import javax.lang.model.element.AnnotationMirror;

/**
 * CTX003: {@code null} passed where a Context is expected, or returned from a method that returns one. Callees
 * then fail far from the mistake, or skip cancellation (Go vet's "do not pass a nil Context").
 *
 * {@snippet :
 * // bad
 * repository.load(null, id);
 * // good: the caller's context, or Context.todo() while the plumbing is unfinished
 * repository.load(ctx, id);
 * repository.load(Context.todo(), id);
 * }
 *
 * <p>Parameters annotated {@code @Nullable} (JSpecify or any other annotation of that name) are exempt: they take
 * null on purpose. The suggested fix for an argument is {@code Context.todo()}, which marks the spot for later plumbing.
 */
@BugPattern(
        name = "CTX003",
        altNames = "NullContext",
        summary = "null Context: pass the caller's context (or Context.todo() while plumbing), never null",
        severity = WARNING,
        linkType = NONE,
        tags = "tether")
public final class NullContext extends BugChecker
        implements MethodInvocationTreeMatcher, NewClassTreeMatcher, ReturnTreeMatcher {

    private static final long serialVersionUID = 1L;

    @Override
    public Description matchMethodInvocation(MethodInvocationTree tree, VisitorState state) {
        return matchArguments(ASTHelpers.getSymbol(tree), tree.getArguments(), state);
    }

    @Override
    public Description matchNewClass(NewClassTree tree, VisitorState state) {
        return matchArguments(ASTHelpers.getSymbol(tree), tree.getArguments(), state);
    }

    private Description matchArguments(Symbol.MethodSymbol method, List<? extends ExpressionTree> arguments,
            VisitorState state) {
        if (method == null) {
            return Description.NO_MATCH;
        }
        List<Symbol.VarSymbol> parameters = method.getParameters();
        for (int i = 0; i < arguments.size() && i < parameters.size(); i++) {
            ExpressionTree argument = ASTHelpers.stripParentheses(arguments.get(i));
            Type type = parameters.get(i).type;
            if (argument.getKind() == Tree.Kind.NULL_LITERAL && Tether.isContext(type, state)
                    && !nullable(parameters.get(i))) {
                Description.Builder description = buildDescription(argument)
                        .setMessage("null passed as '" + parameters.get(i).getSimpleName() + "': pass the caller's"
                                + " context, or Context.todo() while the plumbing is unfinished");
                if (ASTHelpers.isSameType(type, state.getTypeFromString(Tether.CONTEXT), state)) {
                    description.addFix(SuggestedFix.builder()
                            .addImport(Tether.CONTEXT)
                            .replace(argument, "Context.todo()")
                            .build());
                }
                state.reportMatch(description.build());
            }
        }
        return Description.NO_MATCH;
    }

    /** A parameter declared {@code @Nullable} (any annotation of that simple name) takes null on purpose. */
    private static boolean nullable(Symbol.VarSymbol parameter) {
        Stream<? extends AnnotationMirror> annotations = Stream.concat(
                Stream.concat(parameter.getAnnotationMirrors().stream(), parameter.asType().getAnnotationMirrors().stream()),
                parameter.getRawTypeAttributes().stream());
        return annotations.anyMatch(a -> a.getAnnotationType().asElement().getSimpleName().contentEquals("Nullable"));
    }

    @Override
    public Description matchReturn(ReturnTree tree, VisitorState state) {
        if (tree.getExpression() == null
                || ASTHelpers.stripParentheses(tree.getExpression()).getKind() != Tree.Kind.NULL_LITERAL) {
            return Description.NO_MATCH;
        }
        Type returnType = null;
        for (TreePath p = state.getPath().getParentPath(); p != null; p = p.getParentPath()) {
            if (p.getLeaf() instanceof LambdaExpressionTree) {
                return Description.NO_MATCH;
            }
            if (p.getLeaf() instanceof MethodTree method) {
                returnType = ASTHelpers.getSymbol(method).getReturnType();
                break;
            }
        }
        if (!Tether.isContext(returnType, state)) {
            return Description.NO_MATCH;
        }
        return buildDescription(tree)
                .setMessage("null returned as a Context: return Context.background() or the context in scope,"
                        + " or throw")
                .build();
    }
}
