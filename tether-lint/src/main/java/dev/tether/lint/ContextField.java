package dev.tether.lint;

import static com.google.errorprone.BugPattern.LinkType.NONE;
import static com.google.errorprone.BugPattern.SeverityLevel.WARNING;

import com.google.common.collect.ImmutableList;
import com.google.errorprone.BugPattern;
import com.google.errorprone.ErrorProneFlags;
import com.google.errorprone.VisitorState;
import com.google.errorprone.bugpatterns.BugChecker;
import com.google.errorprone.bugpatterns.BugChecker.VariableTreeMatcher;
import com.google.errorprone.matchers.Description;
import com.google.errorprone.util.ASTHelpers;
import com.sun.source.tree.VariableTree;
import com.sun.tools.javac.code.Symbol;
import javax.inject.Inject;
import javax.lang.model.element.ElementKind;

/**
 * CTX007: a Context stored in an instance field (or record component). A context belongs to one call; kept in an
 * object it outlives the call, gets used after it was cancelled, or is shared by calls it does not belong to
 * (Go's containedctx).
 *
 * {@snippet :
 * // bad
 * final class Repository { private final Context ctx; ... User load(long id) { ... ctx ... } }
 *
 * // good: the context travels with each call
 * final class Repository { User load(Context ctx, long id) { ... } }
 * }
 *
 * <p>Types whose job is to hold a context (a task wrapper, a request scope) are allow-listed with
 * {@code -XepOpt:CTX007:AllowedClasses=com.acme.RequestScope,com.acme.tasks.*,com.acme.jobs.**}: a class name,
 * {@code pkg.*} for the classes of one package, {@code pkg.**} for a package and its subpackages. Tether's own
 * package {@code dev.tether} is always allowed. Static fields are not flagged (they are constants such as a
 * shared root, or worse mistakes that CTX002 explains).
 */
@BugPattern(
        name = "CTX007",
        altNames = "ContextField",
        summary = "Context stored in a field outlives its call: pass it as a method parameter"
                + " (or allow-list the class with -XepOpt:CTX007:AllowedClasses)",
        severity = WARNING,
        linkType = NONE,
        tags = "tether")
public final class ContextField extends BugChecker implements VariableTreeMatcher {

    private static final long serialVersionUID = 1L;

    static final String ALLOWED_FLAG = "CTX007:AllowedClasses";

    private final ImmutableList<String> allowed;

    /** Without options; javac's plugin loader (ServiceLoader) needs a public no-arg constructor to exist. */
    public ContextField() {
        this(ErrorProneFlags.empty());
    }

    /** With the options given as {@code -XepOpt:...}; Error Prone calls this one. */
    @Inject
    public ContextField(ErrorProneFlags flags) {
        this.allowed = ImmutableList.<String>builder()
                .add("dev.tether.*")
                .addAll(flags.getListOrEmpty(ALLOWED_FLAG))
                .build();
    }

    @Override
    public Description matchVariable(VariableTree tree, VisitorState state) {
        Symbol.VarSymbol symbol = ASTHelpers.getSymbol(tree);
        if (symbol == null || symbol.getKind() != ElementKind.FIELD || symbol.isStatic()
                || !Tether.isContext(symbol.type, state)) {
            return Description.NO_MATCH;
        }
        Symbol.ClassSymbol owner = ASTHelpers.enclosingClass(symbol);
        if (owner == null || isAllowed(owner)) {
            return Description.NO_MATCH;
        }
        return buildDescription(tree)
                .setMessage("field '" + symbol.getSimpleName() + "' stores a Context, which outlives its call: pass"
                        + " it as a parameter (or allow-list " + owner.getQualifiedName() + " with -XepOpt:"
                        + ALLOWED_FLAG + ")")
                .build();
    }

    private boolean isAllowed(Symbol.ClassSymbol owner) {
        String name = owner.getQualifiedName().toString();
        String packageName = owner.packge().getQualifiedName().toString();
        for (Symbol.ClassSymbol c = owner; c != null; c = ASTHelpers.enclosingClass(c)) {
            if (allowed.contains(c.getQualifiedName().toString())) {
                return true;
            }
        }
        for (String entry : allowed) {
            if (entry.endsWith(".**")) {
                String prefix = entry.substring(0, entry.length() - 3);
                if (packageName.equals(prefix) || packageName.startsWith(prefix + ".")) {
                    return true;
                }
            } else if (entry.endsWith(".*") && packageName.equals(entry.substring(0, entry.length() - 2))) {
                return true;
            } else if (entry.equals(name)) {
                return true;
            }
        }
        return false;
    }
}
