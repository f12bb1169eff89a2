/**
 * Tether for Jakarta Servlet 6 (Tomcat 11, Jetty ee10/ee11, Spring MVC): {@link dev.tether.servlet.TetherFilter}
 * gives each request a context made from the budget its caller sent, ends it when the response completes, the
 * budget runs out or a write fails, and answers 504 at once when a servlet is stuck past its budget.
 */
@NullMarked
package dev.tether.servlet;

import org.jspecify.annotations.NullMarked;
