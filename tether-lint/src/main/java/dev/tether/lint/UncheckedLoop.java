package dev.tether.lint;

import static com.google.errorprone.BugPattern.LinkType.NONE;
import static com.google.errorprone.BugPattern.SeverityLevel.WARNING;

import com.google.errorprone.BugPattern;
import com.google.errorprone.VisitorState;
import com.google.errorprone.bugpatterns.BugChecker;
import com.google.errorprone.bugpatterns.BugChecker.DoWhileLoopTreeMatcher;
import com.google.errorprone.bugpatterns.BugChecker.ForLoopTreeMatcher;
import com.google.errorprone.bugpatterns.BugChecker.WhileLoopTreeMatcher;
import com.google.errorprone.matchers.Description;
import com.google.errorprone.util.ASTHelpers;
import com.sun.source.tree.DoWhileLoopTree;
import com.sun.source.tree.ExpressionTree;
import com.sun.source.tree.ForLoopTree;
import com.sun.source.tree.Tree;
import com.sun.source.tree.VariableTree;
import com.sun.source.tree.WhileLoopTree;
import org.jspecify.annotations.Nullable;

/**
 * CTX006: an unbounded loop ({@code while (true)}, {@code for (;;)}, {@code do ... while (true)}) in a method that
 * has a context, whose body never looks at any context. It runs on after the context is cancelled.
 *
 * {@snippet :
 * // bad
 * void poll(Context ctx, Queue<Job> jobs) {
 *     while (true) { run(jobs.poll()); }
 * }
 *
 * // good: check the context each round (or pass it to the call that blocks)
 * void poll(Context ctx, Queue<Job> jobs) {
 *     while (!ctx.isDone()) { run(jobs.poll()); }
 * }
 * }
 *
 * <p>Any mention of a context variable in the loop counts as a check (ctx.isDone(), ctx.throwIfDone(), or passing
 * ctx to a call), so loops that delegate the check are not flagged. Bounded loops are not considered.
 */
@BugPattern(
        name = "CTX006",
        altNames = "UncheckedLoop",
        summary = "unbounded loop never checks the context in scope: test ctx.isDone() (or ctx.throwIfDone()) each round",
        severity = WARNING,
        linkType = NONE,
        tags = "tether")
public final class UncheckedLoop extends BugChecker
        implements WhileLoopTreeMatcher, ForLoopTreeMatcher, DoWhileLoopTreeMatcher {

    private static final long serialVersionUID = 1L;

    @Override
    public Description matchWhileLoop(WhileLoopTree tree, VisitorState state) {
        return match(tree, tree.getCondition(), state);
    }

    @Override
    public Description matchDoWhileLoop(DoWhileLoopTree tree, VisitorState state) {
        return match(tree, tree.getCondition(), state);
    }

    @Override
    public Description matchForLoop(ForLoopTree tree, VisitorState state) {
        return match(tree, tree.getCondition(), state);
    }

    private Description match(Tree loop, @Nullable ExpressionTree condition, VisitorState state) {
        boolean unbounded = condition == null
                || Boolean.TRUE.equals(ASTHelpers.constValue(ASTHelpers.stripParentheses(condition), Boolean.class));
        if (!unbounded || Tether.inLambdaOrInnerClass(state.getPath())) {
            return Description.NO_MATCH;
        }
        VariableTree parameter = Tether.contextParameter(Tether.enclosingMethod(state.getPath()), state);
        if (parameter == null || Tether.mentionsContext(loop, state)) {
            return Description.NO_MATCH;
        }
        String name = parameter.getName().toString();
        return buildDescription(loop)
                .setMessage("this loop never checks '" + name + "' and runs on after it is cancelled: test "
                        + name + ".isDone() (or call " + name + ".throwIfDone()) each round")
                .build();
    }
}
