/**
 * Hooks for tools built on tether-core (leak detection, JFR events, metrics): {@link
 * dev.tether.spi.ContextObserver} hears of contexts and the tasks bound to them once installed with {@link
 * dev.tether.spi.ContextObservers}. Applications do not need this package.
 */
@NullMarked
package dev.tether.spi;

import org.jspecify.annotations.NullMarked;
