package dev.tether.lint;

import com.google.errorprone.VisitorState;
import com.google.errorprone.util.ASTHelpers;
import com.sun.source.tree.ClassTree;
import com.sun.source.tree.CompilationUnitTree;
import com.sun.source.tree.ExpressionTree;
import com.sun.source.tree.IdentifierTree;
import com.sun.source.tree.LambdaExpressionTree;
import com.sun.source.tree.MemberSelectTree;
import com.sun.source.tree.MethodInvocationTree;
import com.sun.source.tree.MethodTree;
import com.sun.source.tree.Tree;
import com.sun.source.tree.VariableTree;
import com.sun.source.util.TreePath;
import com.sun.source.util.TreeScanner;
import com.sun.tools.javac.code.Symbol;
import com.sun.tools.javac.code.Type;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/** What the checks know about Tether's API, and the tree questions several of them ask. */
final class Tether {

    static final String CONTEXT = "dev.tether.Context";
    static final String CANCELLABLE = "dev.tether.CancellableContext";
    static final String KEY = "dev.tether.Key";

    private Tether() {}

    /** True if {@code type} is a Tether context (Context or CancellableContext); false when Tether is not on the classpath. */
    static boolean isContext(@Nullable Type type, VisitorState state) {
        return isSubtypeOf(type, CONTEXT, state);
    }

    static boolean isSubtypeOf(@Nullable Type type, String className, VisitorState state) {
        Type target = state.getTypeFromString(className);
        return type != null && target != null && ASTHelpers.isSubtype(type, target, state);
    }

    /** The innermost method, lambda or class body enclosing the current node: the code that runs together with it. */
    static @Nullable TreePath enclosingCodeUnit(TreePath path) {
        for (TreePath p = path.getParentPath(); p != null; p = p.getParentPath()) {
            Tree leaf = p.getLeaf();
            if (leaf instanceof MethodTree || leaf instanceof LambdaExpressionTree || leaf instanceof ClassTree) {
                return p;
            }
        }
        return null;
    }

    /** The innermost method declaration enclosing the node, looking through lambdas but not through classes. */
    static @Nullable MethodTree enclosingMethod(TreePath path) {
        for (TreePath p = path.getParentPath(); p != null; p = p.getParentPath()) {
            Tree leaf = p.getLeaf();
            if (leaf instanceof MethodTree method) {
                return method;
            }
            if (leaf instanceof ClassTree) {
                return null;
            }
        }
        return null;
    }

    /** True if the node sits in a lambda, or in a local or anonymous class, inside its method. */
    static boolean inLambdaOrInnerClass(TreePath path) {
        for (TreePath p = path.getParentPath(); p != null; p = p.getParentPath()) {
            Tree leaf = p.getLeaf();
            if (leaf instanceof LambdaExpressionTree) {
                return true;
            }
            if (leaf instanceof ClassTree) {
                Tree parent = p.getParentPath() == null ? null : p.getParentPath().getLeaf();
                return !(parent instanceof ClassTree || parent instanceof CompilationUnitTree);
            }
        }
        return false;
    }

    /** The first parameter of the method whose type is a Tether context, or null. */
    static @Nullable VariableTree contextParameter(@Nullable MethodTree method, VisitorState state) {
        if (method == null) {
            return null;
        }
        for (VariableTree parameter : method.getParameters()) {
            if (isContext(ASTHelpers.getType(parameter), state)) {
                return parameter;
            }
        }
        return null;
    }

    /** True if the tree calls {@code Context.current()} anywhere (lambdas included). */
    static boolean callsCurrent(@Nullable Tree tree) {
        if (tree == null) {
            return false;
        }
        AtomicBoolean found = new AtomicBoolean();
        new TreeScanner<Void, Void>() {
            @Override
            public Void visitMethodInvocation(MethodInvocationTree node, Void unused) {
                Symbol.MethodSymbol symbol = ASTHelpers.getSymbol(node);
                if (symbol != null && symbol.getSimpleName().contentEquals("current")
                        && symbol.owner.getQualifiedName().contentEquals(CONTEXT)) {
                    found.set(true);
                }
                return super.visitMethodInvocation(node, unused);
            }
        }.scan(tree, null);
        return found.get();
    }

    /** True if the tree mentions any variable or field whose type is a Tether context. */
    static boolean mentionsContext(@Nullable Tree tree, VisitorState state) {
        if (tree == null) {
            return false;
        }
        AtomicBoolean found = new AtomicBoolean();
        new TreeScanner<Void, Void>() {
            @Override
            public Void visitIdentifier(IdentifierTree node, Void unused) {
                check(node);
                return null;
            }

            @Override
            public Void visitMemberSelect(MemberSelectTree node, Void unused) {
                check(node);
                return super.visitMemberSelect(node, unused);
            }

            @Override
            public Void visitMethodInvocation(MethodInvocationTree node, Void unused) {
                Symbol.MethodSymbol symbol = ASTHelpers.getSymbol(node);
                if (symbol != null && symbol.isStatic() && symbol.owner.getQualifiedName().contentEquals(CONTEXT)) {
                    found.set(true); // Context.current() and friends
                }
                return super.visitMethodInvocation(node, unused);
            }

            private void check(ExpressionTree node) {
                Symbol symbol = ASTHelpers.getSymbol(node);
                if (symbol instanceof Symbol.VarSymbol && isContext(symbol.type, state)) {
                    found.set(true);
                }
            }
        }.scan(tree, null);
        return found.get();
    }

    /** True if {@code tree} is a method invocation of {@code name} declared by a Tether context type. */
    static boolean isContextMethod(@Nullable Tree tree, VisitorState state, String... names) {
        if (!(tree instanceof MethodInvocationTree invocation)) {
            return false;
        }
        Symbol.MethodSymbol symbol = ASTHelpers.getSymbol(invocation);
        if (symbol == null || !isContext(symbol.owner.type, state)) {
            return false;
        }
        for (String name : names) {
            if (symbol.getSimpleName().contentEquals(name)) {
                return true;
            }
        }
        return false;
    }
}
