package dev.tether.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Gives each test a root context and fails the test if work started under it outlives it: Go's goleak, attributed
 * by lineage. The test (and its {@code @BeforeEach} and {@code @AfterEach} methods) may take the root as a
 * parameter of type {@link dev.tether.Context} or {@link dev.tether.CancellableContext}; it is also
 * {@link dev.tether.Context#current()} while the test method runs. After the test the root is cancelled, and the
 * extension waits, backing off from 1 ms to 100 ms between looks, up to {@link #waitMillis()}, for every task
 * started in the root or a context derived from it to end. Any task still running then fails the test with a
 * leak report: where the task was made, its context's lineage, its thread's stack and why it still runs.
 *
 * {@snippet :
 * @TetherLeakCheck
 * class CheckoutTest {
 *     @Test
 *     void fansOutAndCleansUp(Context ctx) throws Exception {
 *         checkout.handle(ctx, order);      // fails here if a backend call outlives the test
 *     }
 * }
 * }
 *
 * <p>Tests may run in parallel: each test's check sees only its own subtree. Known background work is left out
 * with {@link #ignoreThreads()} and {@link #ignoreCreatedBy()}, or for the whole run with the configuration
 * parameters {@code tether.leak.ignoreThreads} and {@code tether.leak.ignoreCreatedBy} (comma-separated).
 * Annotations on the method and on its classes add up.
 *
 * <p>Tasks are tracked by the {@link dev.tether.leak.LeakDetector} installed in the JVM (the whole-run listener
 * {@link TetherRunListener} installs one at level FULL when the JUnit Platform launcher starts); if none is, the
 * extension installs one at level FULL ({@code tether.leak.level} changes it) for the rest of the run.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(TetherExtension.class)
public @interface TetherLeakCheck {

    /**
     * How long to wait after cancelling for the test's tasks to end, in milliseconds. Negative (the default):
     * the configuration parameter {@code tether.leak.waitMillis}, else 2000.
     */
    long waitMillis() default -1;

    /** Regular expressions; a task whose thread's whole name matches one is not counted. */
    String[] ignoreThreads() default {};

    /**
     * Fully qualified class names; a task made in a method of one of them (or of a class nested in one), anywhere
     * on its creation stack, is not counted. For a task whose creation stack was not sampled, its current stack
     * is searched instead.
     */
    String[] ignoreCreatedBy() default {};
}
