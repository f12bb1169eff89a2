package dev.tether.junit;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs the case classes that the tests drive through the EngineTestKit or a Launcher only there (the runs set
 * {@code tether.junit.testkit=true}), never as tests of their own.
 */
final class OnlyInTestKit implements ExecutionCondition {

    static final String PARAMETER = "tether.junit.testkit";

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        return context.getConfigurationParameter(PARAMETER).map(Boolean::parseBoolean).orElse(false)
                ? ConditionEvaluationResult.enabled("run by a test of tether-junit")
                : ConditionEvaluationResult.disabled("a case for tether-junit's tests, run only by them");
    }
}
