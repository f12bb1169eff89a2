/**
 * Tether for Jetty 12 core: {@link dev.tether.jetty.TetherHandler} gives each request a context made from the
 * budget its caller sent, ends it when the client disconnects, the budget runs out or the response completes, and
 * answers 504 at once when a handler is stuck past its budget.
 */
@NullMarked
package dev.tether.jetty;

import org.jspecify.annotations.NullMarked;
