package dev.tether;

/**
 * A context bound to the current thread by {@link Context#attach()}; {@link #close()} restores what was bound
 * before. Scopes nest: close them in the reverse order they were opened, on the thread that opened them,
 * which try-with-resources does for you.
 *
 * <p>Closing a scope out of order (while a scope opened after it is still open) or on another thread is a bug
 * that would leave the wrong context bound. {@code close()} reports it with an {@link IllegalStateException}
 * naming both contexts and, when run with {@code -Ddev.tether.scopeSites=true}, where each scope was opened.
 * Closing a scope twice does nothing the second time.
 */
public interface Scope extends AutoCloseable {

    /** Restores the context that was current when this scope was opened. */
    @Override
    void close();
}
