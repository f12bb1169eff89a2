/**
 * JUnit 5 support for Tether: {@link dev.tether.junit.TetherLeakCheck} gives each test a root context, cancels it
 * after the test and fails the test if work started in it still runs; {@link dev.tether.junit.TetherRunListener}
 * reports what still runs at the end of the whole run.
 */
@NullMarked
package dev.tether.junit;

import org.jspecify.annotations.NullMarked;
