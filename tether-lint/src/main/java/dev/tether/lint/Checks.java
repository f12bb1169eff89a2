package dev.tether.lint;

import com.google.errorprone.bugpatterns.BugChecker;
import java.util.List;

/** Every Tether check, in rule-id order: the CLI's scanner and the parity tests use this list. */
final class Checks {

    static final List<Class<? extends BugChecker>> ALL = List.of(
            LostCancel.class,
            RootInScope.class,
            NullContext.class,
            UnpropagatedAsync.class,
            BlockingCall.class,
            UncheckedLoop.class,
            ContextField.class,
            InlineKey.class,
            MutableValue.class,
            RederivedInLoop.class,
            SwallowedInterrupt.class,
            CancelBeforeAsync.class);

    private Checks() {}
}
