package dev.tether.lint;

import static com.google.errorprone.BugPattern.LinkType.NONE;
import static com.google.errorprone.BugPattern.SeverityLevel.WARNING;

import com.google.errorprone.BugPattern;
import com.google.errorprone.VisitorState;
import com.google.errorprone.bugpatterns.BugChecker;
import com.google.errorprone.bugpatterns.BugChecker.MethodInvocationTreeMatcher;
import com.google.errorprone.matchers.Description;
import com.google.errorprone.util.ASTHelpers;
import com.sun.source.tree.AssignmentTree;
import com.sun.source.tree.BlockTree;
import com.sun.source.tree.ClassTree;
import com.sun.source.tree.MethodInvocationTree;
import com.sun.source.tree.ParenthesizedTree;
import com.sun.source.tree.Tree;
import com.sun.source.tree.VariableTree;
import com.sun.source.util.TreePath;
import com.sun.tools.javac.code.Symbol;
import javax.lang.model.element.ElementKind;
import javax.lang.model.element.Modifier;

/**
 * CTX008: {@code Key.of(...)} outside a static final field initializer. Keys compare by identity, so a key made
 * per call, per instance or in a mutable field finds nothing that another instance stored.
 *
 * {@snippet :
 * // bad: a new key each call; value(key) never sees what withValue stored under the other one
 * ctx.withValue(Key.of("user"), user);
 *
 * // good
 * private static final Key<User> USER = Key.of("user");
 * ctx.withValue(USER, user);
 * }
 *
 * <p>A static final field assigned in a static initializer block is fine too.
 */
@BugPattern(
        name = "CTX008",
        altNames = "InlineKey",
        summary = "Key created inline: keys compare by identity; hold each in a static final field",
        severity = WARNING,
        linkType = NONE,
        tags = "tether")
public final class InlineKey extends BugChecker implements MethodInvocationTreeMatcher {

    private static final long serialVersionUID = 1L;

    @Override
    public Description matchMethodInvocation(MethodInvocationTree tree, VisitorState state) {
        Symbol.MethodSymbol symbol = ASTHelpers.getSymbol(tree);
        if (symbol == null || !symbol.isStatic() || !symbol.getSimpleName().contentEquals("of")
                || !symbol.owner.getQualifiedName().contentEquals(Tether.KEY)) {
            return Description.NO_MATCH;
        }
        TreePath parentPath = state.getPath().getParentPath();
        while (parentPath.getLeaf() instanceof ParenthesizedTree) {
            parentPath = parentPath.getParentPath();
        }
        Tree parent = parentPath.getLeaf();
        Symbol target = null;
        if (parent instanceof VariableTree variable) {
            target = ASTHelpers.getSymbol(variable);
        } else if (parent instanceof AssignmentTree assignment && inStaticInitializer(parentPath)) {
            target = ASTHelpers.getSymbol(assignment.getVariable());
        }
        if (target != null && target.getKind() == ElementKind.FIELD
                && target.getModifiers().contains(Modifier.STATIC) && target.getModifiers().contains(Modifier.FINAL)) {
            return Description.NO_MATCH;
        }
        return describeMatch(tree);
    }

    private static boolean inStaticInitializer(TreePath path) {
        for (TreePath p = path.getParentPath(); p != null; p = p.getParentPath()) {
            if (p.getLeaf() instanceof BlockTree block && p.getParentPath().getLeaf() instanceof ClassTree) {
                return block.isStatic();
            }
            if (p.getLeaf() instanceof ClassTree) {
                return false;
            }
        }
        return false;
    }
}
