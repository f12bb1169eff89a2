package dev.tether.lint;

import static com.google.errorprone.BugPattern.LinkType.NONE;
import static com.google.errorprone.BugPattern.SeverityLevel.WARNING;

import com.google.common.collect.ImmutableList;
import com.google.errorprone.BugPattern;
import com.google.errorprone.ErrorProneFlags;
import com.google.errorprone.VisitorState;
import com.google.errorprone.bugpatterns.BugChecker;
import com.google.errorprone.bugpatterns.BugChecker.MethodInvocationTreeMatcher;
import com.google.errorprone.matchers.Description;
import com.google.errorprone.util.ASTHelpers;
import com.sun.source.tree.ExpressionTree;
import com.sun.source.tree.MethodInvocationTree;
import com.sun.tools.javac.code.Symbol;
import com.sun.tools.javac.code.Type;
import javax.inject.Inject;

/**
 * CTX009: a mutable or business object stored as a context value. Values are shared by every descendant and every
 * thread the context reaches; mutating one is a data race, and entities in a context become hidden parameters.
 *
 * {@snippet :
 * // bad
 * ctx.withValue(ROLES, new ArrayList<>(roles));
 *
 * // good: an immutable value (or an id, not the entity)
 * ctx.withValue(ROLES, List.copyOf(roles));
 * }
 *
 * <p>Flagged value types: collections, maps, arrays, StringBuilder/StringBuffer, JDK atomics, classes annotated
 * {@code @Entity} (Jakarta or javax persistence), and any type listed in
 * {@code -XepOpt:CTX009:MutableTypes=com.acme.Order,...} (subtypes included). Values produced by
 * {@code List.of}/{@code copyOf}/{@code Collections.unmodifiable*} and the like are not flagged.
 */
@BugPattern(
        name = "CTX009",
        altNames = "MutableValue",
        summary = "mutable or business object as a context value is shared across threads: store an immutable copy"
                + " or an id",
        severity = WARNING,
        linkType = NONE,
        tags = "tether")
public final class MutableValue extends BugChecker implements MethodInvocationTreeMatcher {

    private static final long serialVersionUID = 1L;

    static final String TYPES_FLAG = "CTX009:MutableTypes";

    private final ImmutableList<String> mutableTypes;

    /** Without options; javac's plugin loader (ServiceLoader) needs a public no-arg constructor to exist. */
    public MutableValue() {
        this(ErrorProneFlags.empty());
    }

    /** With the options given as {@code -XepOpt:...}; Error Prone calls this one. */
    @Inject
    public MutableValue(ErrorProneFlags flags) {
        this.mutableTypes = ImmutableList.<String>builder()
                .add("java.util.Collection", "java.util.Map", "java.lang.StringBuilder", "java.lang.StringBuffer",
                        "java.util.concurrent.atomic.AtomicInteger", "java.util.concurrent.atomic.AtomicLong",
                        "java.util.concurrent.atomic.AtomicBoolean", "java.util.concurrent.atomic.AtomicReference")
                .addAll(flags.getListOrEmpty(TYPES_FLAG))
                .build();
    }

    @Override
    public Description matchMethodInvocation(MethodInvocationTree tree, VisitorState state) {
        if (!Tether.isContextMethod(tree, state, "withValue") || tree.getArguments().size() != 2) {
            return Description.NO_MATCH;
        }
        ExpressionTree value = ASTHelpers.stripParentheses(tree.getArguments().get(1));
        if (value instanceof MethodInvocationTree call && immutableFactory(ASTHelpers.getSymbol(call))) {
            return Description.NO_MATCH;
        }
        Type type = ASTHelpers.getType(value);
        String why = why(type, state);
        if (why == null) {
            return Description.NO_MATCH;
        }
        return buildDescription(value)
                .setMessage("context value is " + why + ", shared by every thread the context reaches: store an"
                        + " immutable copy (List.copyOf, a record) or an id")
                .build();
    }

    private String why(Type type, VisitorState state) {
        if (type == null) {
            return null;
        }
        if (type.getKind() == javax.lang.model.type.TypeKind.ARRAY) {
            return "an array";
        }
        for (String name : mutableTypes) {
            if (Tether.isSubtypeOf(type, name, state)) {
                return "a mutable " + state.getTypes().erasure(type).tsym.getSimpleName();
            }
        }
        Symbol symbol = type.tsym;
        if (symbol != null && (ASTHelpers.hasAnnotation(symbol, "jakarta.persistence.Entity", state)
                || ASTHelpers.hasAnnotation(symbol, "javax.persistence.Entity", state))) {
            return "an entity (" + symbol.getSimpleName() + ")";
        }
        return null;
    }

    private static boolean immutableFactory(Symbol.MethodSymbol method) {
        if (method == null) {
            return false;
        }
        String name = method.getSimpleName().toString();
        return name.equals("of") || name.equals("copyOf") || name.equals("ofEntries") || name.equals("toList")
                || name.startsWith("unmodifiable") || name.equals("emptyList") || name.equals("emptyMap")
                || name.equals("emptySet");
    }
}
