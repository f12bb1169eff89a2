/**
 * Finds work that outlives its context and says which request it belonged to: every task started through Tether
 * is recorded against its context, and a context that ends with live tasks is checked once after a grace period.
 */
@NullMarked
package dev.tether.leak;

import org.jspecify.annotations.NullMarked;
