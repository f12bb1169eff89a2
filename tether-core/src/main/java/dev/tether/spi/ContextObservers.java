package dev.tether.spi;

import dev.tether.CancellableContext;
import dev.tether.Context;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Installs {@link ContextObserver}s process-wide. Several may be installed at once (leak detection and metrics,
 * say); each hears every event, in installation order. Installing and uninstalling are rare and synchronized;
 * reading the installed observer is one volatile read.
 *
 * <pre>{@code
 * try (ContextObservers.Installation installation = ContextObservers.install(observer)) {
 *     ... // contexts and tasks are observed here, on every thread
 * }
 * }</pre>
 */
public final class ContextObservers {

    private static final Object LOCK = new Object();
    private static final List<Installation> INSTALLED = new ArrayList<>();
    private static volatile @Nullable ContextObserver current;

    private ContextObservers() {}

    /** Installs {@code observer} until the returned installation is closed. The same observer may not be installed twice. */
    public static Installation install(ContextObserver observer) {
        Objects.requireNonNull(observer, "observer must not be null");
        synchronized (LOCK) {
            for (Installation i : INSTALLED) {
                if (i.observer == observer) {
                    throw new IllegalStateException("observer is installed already: " + observer);
                }
            }
            Installation installation = new Installation(observer);
            INSTALLED.add(installation);
            refresh();
            return installation;
        }
    }

    /** What tether-core calls on each event: the installed observers, as one; null if none is installed. */
    public static @Nullable ContextObserver installed() {
        return current;
    }

    private static void refresh() {
        if (INSTALLED.isEmpty()) {
            current = null;
        } else if (INSTALLED.size() == 1) {
            current = INSTALLED.get(0).observer;
        } else {
            List<ContextObserver> all = new ArrayList<>();
            for (Installation i : INSTALLED) {
                all.add(i.observer);
            }
            current = new Composite(all.toArray(ContextObserver[]::new));
        }
    }

    /** An installed observer; {@link #close()} uninstalls it (idempotent). */
    public static final class Installation implements AutoCloseable {
        private final ContextObserver observer;

        private Installation(ContextObserver observer) {
            this.observer = observer;
        }

        /** The observer this installation installed. */
        public ContextObserver observer() {
            return observer;
        }

        @Override
        public void close() {
            synchronized (LOCK) {
                if (INSTALLED.remove(this)) {
                    refresh();
                }
            }
        }

        @Override
        public String toString() {
            return "Installation[" + observer + "]";
        }
    }

    /** Several observers as one; task tokens are kept per observer. */
    private record Composite(ContextObserver[] observers) implements ContextObserver {

        @Override
        public void contextCreated(CancellableContext context, @Nullable CancellableContext parent) {
            for (ContextObserver o : observers) {
                o.contextCreated(context, parent);
            }
        }

        @Override
        public void cancelCalled(CancellableContext context, @Nullable Throwable cause) {
            for (ContextObserver o : observers) {
                o.cancelCalled(context, cause);
            }
        }

        @Override
        public void contextEnded(
                CancellableContext context, boolean byAncestor, int descendantsEnded, long propagationNanos) {
            for (ContextObserver o : observers) {
                o.contextEnded(context, byAncestor, descendantsEnded, propagationNanos);
            }
        }

        @Override
        public Object[] taskSubmitted(@Nullable CancellableContext owner, Context context) {
            Object[] tokens = new Object[observers.length];
            for (int i = 0; i < observers.length; i++) {
                tokens[i] = observers[i].taskSubmitted(owner, context);
            }
            return tokens;
        }

        @Override
        public Object[] taskStarted(@Nullable CancellableContext owner, Context context, @Nullable Object submitted) {
            // A token from another composite (observers changed between submit and start) is not ours.
            Object[] before = submitted instanceof Object[] a && a.length == observers.length ? a : null;
            Object[] tokens = new Object[observers.length];
            for (int i = 0; i < observers.length; i++) {
                tokens[i] = observers[i].taskStarted(owner, context, before == null ? null : before[i]);
            }
            return tokens;
        }

        @Override
        public void taskEnded(@Nullable Object started) {
            Object[] tokens = (Object[]) Objects.requireNonNull(started);
            for (int i = 0; i < observers.length; i++) {
                observers[i].taskEnded(tokens[i]);
            }
        }
    }
}
