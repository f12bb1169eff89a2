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
import com.sun.source.tree.AssignmentTree;
import com.sun.source.tree.BlockTree;
import com.sun.source.tree.ClassTree;
import com.sun.source.tree.ExpressionStatementTree;
import com.sun.source.tree.IdentifierTree;
import com.sun.source.tree.LambdaExpressionTree;
import com.sun.source.tree.MemberSelectTree;
import com.sun.source.tree.MethodInvocationTree;
import com.sun.source.tree.ParenthesizedTree;
import com.sun.source.tree.ReturnTree;
import com.sun.source.tree.StatementTree;
import com.sun.source.tree.ThrowTree;
import com.sun.source.tree.Tree;
import com.sun.source.tree.TryTree;
import com.sun.source.tree.VariableTree;
import com.sun.source.util.TreePath;
import com.sun.source.util.TreePathScanner;
import com.sun.source.util.TreeScanner;
import com.sun.tools.javac.code.Symbol;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.lang.model.element.ElementKind;
import org.jspecify.annotations.Nullable;

/**
 * CTX001: a {@code CancellableContext} that is not cancelled on every path, or is discarded outright (Go vet's
 * {@code lostcancel}). Until it is cancelled, the child stays linked to its parent and a timeout keeps its timer.
 *
 * {@snippet :
 * // bad: the early return leaves the child open
 * CancellableContext call = ctx.withTimeout(Duration.ofSeconds(2));
 * if (cached != null) return cached;
 * try { return load(call); } finally { call.cancel(); }
 *
 * // good: close() cancels, on every path
 * try (CancellableContext call = ctx.withTimeout(Duration.ofSeconds(2))) {
 *     return cached != null ? cached : load(call);
 * }
 * }
 *
 * <p>Ownership moves, and the check stays quiet, when the context is returned, passed to another method or
 * constructor, stored in a field, or captured by a lambda or inner class. A cancel in a {@code finally} covers the
 * paths through its {@code try}; a cancel in an earlier statement covers the exits after it (a cancel inside an
 * {@code if} counts, which errs towards silence). Exceptions thrown by calls are not paths here, explicit
 * {@code throw}s are. The suggested fix wraps the declaration and the rest of its block in try-with-resources.
 */
@BugPattern(
        name = "CTX001",
        altNames = "LostCancel",
        summary = "CancellableContext not cancelled on every path: declare it in try-with-resources (close() cancels)",
        severity = WARNING,
        linkType = NONE,
        tags = "tether")
public final class LostCancel extends BugChecker implements MethodInvocationTreeMatcher {

    private static final long serialVersionUID = 1L;

    @Override
    public Description matchMethodInvocation(MethodInvocationTree tree, VisitorState state) {
        if (!Tether.isContextMethod(tree, state, "withCancel", "withTimeout", "withDeadline")
                || !Tether.isSubtypeOf(ASTHelpers.getType(tree), Tether.CANCELLABLE, state)) {
            return Description.NO_MATCH;
        }
        TreePath path = state.getPath();
        Tree child = tree;
        TreePath parentPath = path.getParentPath();
        while (parentPath.getLeaf() instanceof ParenthesizedTree) {
            child = parentPath.getLeaf();
            parentPath = parentPath.getParentPath();
        }
        Tree parent = parentPath.getLeaf();
        String made = ASTHelpers.getSymbol(tree).getSimpleName() + "()";

        if (parent instanceof ExpressionStatementTree) {
            return message(tree, "the CancellableContext from " + made + " is discarded, so nothing cancels it;"
                    + " hold it in try-with-resources");
        }
        if (parent instanceof MemberSelectTree select && select.getExpression() == child) {
            String name = select.getIdentifier().toString();
            if (name.equals("cancel") || name.equals("close")) {
                return Description.NO_MATCH;
            }
            return message(tree, "the CancellableContext from " + made + " is used inline and never closed;"
                    + " declare it in try-with-resources: try (CancellableContext c = ...) { c." + name + "(...); }");
        }
        if (parent instanceof VariableTree variable && variable.getInitializer() == child) {
            if (parentPath.getParentPath().getLeaf() instanceof TryTree) {
                return Description.NO_MATCH; // a try-with-resources resource
            }
            Symbol.VarSymbol symbol = ASTHelpers.getSymbol(variable);
            if (symbol == null || symbol.getKind() != ElementKind.LOCAL_VARIABLE) {
                return Description.NO_MATCH; // a field: whoever owns the object owns the context
            }
            return checkLocal(tree, symbol, parentPath, false, state);
        }
        if (parent instanceof AssignmentTree assignment && assignment.getExpression() == child
                && parentPath.getParentPath().getLeaf() instanceof ExpressionStatementTree) {
            Symbol symbol = ASTHelpers.getSymbol(assignment.getVariable());
            if (!(symbol instanceof Symbol.VarSymbol var) || var.getKind() != ElementKind.LOCAL_VARIABLE) {
                return Description.NO_MATCH;
            }
            return checkLocal(tree, var, parentPath.getParentPath(), true, state);
        }
        return Description.NO_MATCH; // returned, passed on, or in an expression the owner of which we cannot see
    }

    private Description message(Tree tree, String message) {
        return buildDescription(tree).setMessage(message).build();
    }

    /** Follows a local variable from the statement that gives it the context to every way out of its block. */
    private Description checkLocal(MethodInvocationTree tree, Symbol.VarSymbol var, TreePath statementPath,
            boolean assigned, VisitorState state) {
        TreePath blockPath = statementPath.getParentPath();
        if (!(blockPath.getLeaf() instanceof BlockTree block)) {
            return Description.NO_MATCH;
        }
        StatementTree statement = (StatementTree) statementPath.getLeaf();
        List<? extends StatementTree> statements = block.getStatements();
        int index = statements.indexOf(statement);
        List<? extends StatementTree> rest = statements.subList(index + 1, statements.size());

        Uses uses = new Uses(var, block, state.getEndPosition(statement));
        if (assigned) {
            // declared elsewhere: its uses, and the finally that may cancel it, can be anywhere in the method
            TreePath body = Tether.enclosingCodeUnit(statementPath);
            if (body == null) {
                return Description.NO_MATCH;
            }
            uses.unit = body.getLeaf();
            uses.scan(body, null);
        } else {
            for (StatementTree s : rest) {
                uses.scan(new TreePath(blockPath, s), null);
            }
        }
        if (uses.escaped) {
            return Description.NO_MATCH;
        }
        if (finallyCancels(statementPath, uses.cancels)) {
            return Description.NO_MATCH;
        }
        String name = var.getSimpleName().toString();
        if (uses.cancels.isEmpty()) {
            return withFix(tree, statement, block, rest, state,
                    "'" + name + "' is never cancelled or closed; declare it in try-with-resources (close() cancels)");
        }
        for (TreePath exit : uses.exits) {
            if (!covered(exit, block, statement, uses.cancels)) {
                long line = state.getPath().getCompilationUnit().getLineMap()
                        .getLineNumber(ASTHelpers.getStartPosition(exit.getLeaf()));
                return withFix(tree, statement, block, rest, state, "'" + name + "' is not cancelled on every path"
                        + " (the exit on line " + line + " leaves it open); declare it in try-with-resources");
            }
        }
        boolean endsWithExit = !rest.isEmpty()
                && (rest.get(rest.size() - 1) instanceof ReturnTree || rest.get(rest.size() - 1) instanceof ThrowTree);
        if (!endsWithExit && rest.stream().noneMatch(s -> contains(s, uses.cancels))) {
            return withFix(tree, statement, block, rest, state, "'" + name + "' is not cancelled when its block ends;"
                    + " declare it in try-with-resources");
        }
        return Description.NO_MATCH;
    }

    /** True if a try around the statement cancels in its finally: every way out of that try is covered. */
    private static boolean finallyCancels(TreePath statementPath, Set<Tree> cancels) {
        Tree child = statementPath.getLeaf();
        for (TreePath p = statementPath.getParentPath(); p != null; p = p.getParentPath()) {
            Tree leaf = p.getLeaf();
            if (leaf instanceof LambdaExpressionTree || leaf instanceof ClassTree) {
                return false;
            }
            if (leaf instanceof TryTree tryTree && child != tryTree.getFinallyBlock()
                    && contains(tryTree.getFinallyBlock(), cancels)) {
                return true;
            }
            child = leaf;
        }
        return false;
    }

    /** An exit is covered by a cancel in an earlier statement on its way up, or by a finally around it. */
    private static boolean covered(TreePath exit, BlockTree declaringBlock, StatementTree declaration,
            Set<Tree> cancels) {
        Tree child = exit.getLeaf();
        for (TreePath p = exit.getParentPath(); p != null; p = p.getParentPath()) {
            Tree leaf = p.getLeaf();
            if (leaf instanceof BlockTree block) {
                List<? extends StatementTree> statements = block.getStatements();
                int stop = statements.indexOf(child);
                int start = leaf == declaringBlock ? statements.indexOf(declaration) + 1 : 0;
                for (int i = start; i < stop; i++) {
                    if (contains(statements.get(i), cancels)) {
                        return true;
                    }
                }
                if (leaf == declaringBlock) {
                    return false;
                }
            }
            if (leaf instanceof TryTree tryTree && child != tryTree.getFinallyBlock()
                    && contains(tryTree.getFinallyBlock(), cancels)) {
                return true;
            }
            child = leaf;
        }
        return true; // an exit outside the block the context was made in: the finally check above decides
    }

    private static boolean contains(@Nullable Tree tree, Set<Tree> targets) {
        if (tree == null) {
            return false;
        }
        AtomicBoolean found = new AtomicBoolean();
        new TreeScanner<Void, Void>() {
            @Override
            public Void scan(Tree node, Void unused) {
                if (node != null && targets.contains(node)) {
                    found.set(true);
                    return null;
                }
                return found.get() ? null : super.scan(node, unused);
            }
        }.scan(tree, null);
        return found.get();
    }

    private Description withFix(MethodInvocationTree tree, StatementTree statement, BlockTree block,
            List<? extends StatementTree> rest, VisitorState state, String message) {
        Description.Builder description = buildDescription(tree).setMessage(message);
        if (statement instanceof VariableTree) {
            description.addFix(tryWithResources(statement, block, rest, state));
        }
        return description.build();
    }

    /** {@code T c = e; rest...} becomes {@code try (T c = e) { rest... }}, as Go's {@code defer cancel()} would. */
    private static SuggestedFix tryWithResources(StatementTree declaration, BlockTree block,
            List<? extends StatementTree> rest, VisitorState state) {
        String resource = state.getSourceForNode(declaration).strip();
        if (resource.endsWith(";")) {
            resource = resource.substring(0, resource.length() - 1).strip();
        }
        int start = ASTHelpers.getStartPosition(declaration);
        int declarationEnd = state.getEndPosition(declaration);
        if (rest.isEmpty()) {
            return SuggestedFix.replace(start, declarationEnd, "try (" + resource + ") {\n}");
        }
        int end = state.getEndPosition(rest.get(rest.size() - 1));
        String body = state.getSourceCode().subSequence(declarationEnd, end).toString();
        return SuggestedFix.replace(start, end, "try (" + resource + ") {" + body + "\n}");
    }

    /** Scans the statements after the declaration: cancels, escapes and exits. */
    private static final class Uses extends TreePathScanner<Void, Void> {
        private final Symbol.VarSymbol var;
        private final BlockTree declaringBlock;
        private final int after;
        /** Where a search for enclosing lambdas stops: the declaring block, or the body that declares the variable. */
        @Nullable Tree unit;
        final Set<Tree> cancels = new HashSet<>();
        final List<TreePath> exits = new ArrayList<>();
        boolean escaped;

        Uses(Symbol.VarSymbol var, BlockTree declaringBlock, int after) {
            this.var = var;
            this.declaringBlock = declaringBlock;
            this.after = after;
        }

        @Override
        public Void visitIdentifier(IdentifierTree node, Void unused) {
            if (!var.equals(ASTHelpers.getSymbol(node))) {
                return null;
            }
            TreePath path = getCurrentPath();
            if (captured(path)) {
                escaped = true;
                return null;
            }
            Tree parent = path.getParentPath().getLeaf();
            if (parent instanceof MemberSelectTree select && select.getExpression() == node) {
                Tree grandparent = path.getParentPath().getParentPath().getLeaf();
                String name = select.getIdentifier().toString();
                if (grandparent instanceof MethodInvocationTree call
                        && (name.equals("cancel") || name.equals("close"))) {
                    cancels.add(call);
                }
                return null; // c.wrap(..), c.isDone(), c.call(..): used, still owned here
            }
            if (parent instanceof AssignmentTree assignment && assignment.getVariable() == node) {
                return null; // reassigned
            }
            escaped = true; // returned, passed, stored, aliased, or a try-with-resources resource
            return null;
        }

        @Override
        public Void visitReturn(ReturnTree node, Void unused) {
            if (!captured(getCurrentPath()) && ASTHelpers.getStartPosition(node) > after) {
                exits.add(getCurrentPath());
            }
            return super.visitReturn(node, unused);
        }

        @Override
        public Void visitThrow(ThrowTree node, Void unused) {
            if (!captured(getCurrentPath()) && ASTHelpers.getStartPosition(node) > after) {
                exits.add(getCurrentPath());
            }
            return super.visitThrow(node, unused);
        }

        /** True if the node runs in a lambda or class declared after the variable, i.e. somewhere else. */
        private boolean captured(TreePath path) {
            for (TreePath p = path.getParentPath();
                    p != null && p.getLeaf() != declaringBlock && p.getLeaf() != unit; p = p.getParentPath()) {
                if (p.getLeaf() instanceof LambdaExpressionTree || p.getLeaf() instanceof ClassTree) {
                    return true;
                }
            }
            return false;
        }
    }
}
