package dev.tether.leak;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.ContextDoneException;
import dev.tether.DeadlineExceededException;
import dev.tether.spi.ContextObserver;
import dev.tether.spi.ContextObservers;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayDeque;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Writes the life of cancellable contexts to JDK Flight Recorder, so that {@code jfr print} and JDK Mission Control
 * show where requests were cancelled, which deadlines passed and which cancellations took long to propagate.
 *
 * {@snippet :
 * ContextEvents.install();   // once, at startup; the events cost nothing until a recording turns them on
 * }
 * Then record as usual, for example {@code java -XX:StartFlightRecording:filename=app.jfr ...} and
 * {@code jfr print --events dev.tether.DeadlineExceeded app.jfr}.
 *
 * <h2>Events</h2>
 * <ul>
 *   <li>{@code dev.tether.ContextCancelled}: a context ended by a cancel, with the cause's type and message, its
 *       depth and age, and the cancelling thread's stack. Off by default (contexts are cancelled at request rate);
 *       a recording turns it on with {@code enabled=true}.</li>
 *   <li>{@code dev.tether.DeadlineExceeded}: a context's own deadline ended it, with the deadline, the budget it
 *       was given, how late the end was noticed, and its depth.</li>
 *   <li>{@code dev.tether.CancelPropagation}: ending a context and the contexts registered below it took at least
 *       the event's {@code propagationThreshold} setting (1 ms by default), with the number of descendants.</li>
 * </ul>
 * Contexts are identified by their identity hash in hex; the lineage field lists the cancellable ancestors from
 * the root as id and kind, never the context's values, which may hold personal data.
 *
 * <h2>Cost</h2>
 * With no recording on, each context creation and end costs a few enabled checks. Depth, age and budget need to
 * know each context's creation; that is kept in a weak identity map only while a recording has
 * {@code ContextCancelled} or {@code DeadlineExceeded} on, and dropped once none has. A context created while they
 * were off reports its depth and age as N/A.
 */
public final class ContextEvents {

    private ContextEvents() {}

    /**
     * Installs the observer that writes the context events, until the returned installation is closed. Each call
     * installs another observer, which writes every event again: install once per process.
     */
    public static ContextObservers.Installation install() {
        return ContextObservers.install(new Observer());
    }

    /** N/A in JFR's convention, for an int field. */
    static final int UNKNOWN_DEPTH = Integer.MIN_VALUE;
    /** N/A in JFR's convention, for a timespan. */
    static final long UNKNOWN_SPAN = Long.MIN_VALUE;
    /** Causes' messages are cut to this many characters: a recording is no place for a whole payload. */
    static final int MAX_MESSAGE = 256;
    /** Lineages list at most this many contexts: the root-most one, an ellipsis and the nearest ones. */
    static final int MAX_LINEAGE = 12;

    /**
     * The observer. Runs on the threads that create and end contexts, so it does nothing unless one of its events
     * is on; then it keeps a {@link Node} per context created while tracking is on.
     */
    static final class Observer implements ContextObserver {

        // written by the threads that create contexts, read by those that end them
        private final WeakIdentityMap<Node> nodes = new WeakIdentityMap<>();

        @Override
        public void contextCreated(CancellableContext context, @Nullable CancellableContext parent) {
            if (!tracking()) {
                if (!nodes.isEmpty()) {
                    nodes.clear(); // the recordings that wanted it are gone
                }
                return;
            }
            Node up = parent == null ? null : nodes.get(parent);
            int depth = parent == null ? 1 : up == null || up.depth == UNKNOWN_DEPTH ? UNKNOWN_DEPTH : up.depth + 1;
            Optional<Instant> deadline = context.deadline();
            boolean ownDeadline = deadline.isPresent() && (parent == null || !deadline.equals(parent.deadline()));
            long budget = ownDeadline ? context.remaining().orElseThrow().toNanos() : UNKNOWN_SPAN;
            nodes.put(context, new Node(System.identityHashCode(context), ownDeadline ? "WithDeadline" : "WithCancel",
                    depth, context.timeSource().nanoTime(), budget, up, parent != null && up == null));
        }

        @Override
        public void contextEnded(
                CancellableContext context, boolean byAncestor, int descendantsEnded, long propagationNanos) {
            boolean cancelledOn = new ContextCancelledEvent().isEnabled();
            boolean deadlineOn = new DeadlineExceededEvent().isEnabled();
            CancelPropagationEvent propagation = new CancelPropagationEvent();
            if (!cancelledOn && !deadlineOn && !propagation.isEnabled()) {
                return;
            }
            ContextDoneException err = context.err();
            boolean deadlinePassed = err instanceof DeadlineExceededException;
            Node node = nodes.get(context);
            if (deadlinePassed && !byAncestor && deadlineOn) {
                deadlineExceeded(context, node, descendantsEnded);
            } else if (!deadlinePassed && cancelledOn) {
                cancelled(context, node, byAncestor, descendantsEnded);
            }
            propagation.propagation = propagationNanos;
            if (propagation.shouldCommit()) {
                propagation.contextId = id(context);
                propagation.lineage = lineage(context, node);
                propagation.descendants = descendantsEnded;
                propagation.endedBy = deadlinePassed ? "deadline_exceeded" : "cancelled";
                propagation.commit();
            }
        }

        private static void cancelled(CancellableContext context, @Nullable Node node, boolean byAncestor,
                int descendants) {
            ContextCancelledEvent event = new ContextCancelledEvent();
            Throwable cause = context.cause();
            event.contextId = id(context);
            event.lineage = lineage(context, node);
            event.causeType = cause == null ? "" : cause.getClass().getName();
            // The err itself stands in for "no cause given": its message is Tether's, not the caller's.
            event.cause = cause == null || cause == context.err() ? null : bounded(cause.getMessage());
            event.byAncestor = byAncestor;
            event.depth = node == null ? UNKNOWN_DEPTH : node.depth;
            event.age = node == null ? UNKNOWN_SPAN : context.timeSource().nanoTime() - node.createdNanos;
            event.descendants = descendants;
            event.commit();
        }

        private static void deadlineExceeded(CancellableContext context, @Nullable Node node, int descendants) {
            DeadlineExceededEvent event = new DeadlineExceededEvent();
            Instant deadline = context.deadline().orElse(null);
            event.contextId = id(context);
            event.lineage = lineage(context, node);
            event.deadline = deadline == null ? UNKNOWN_SPAN : deadline.toEpochMilli();
            event.depth = node == null ? UNKNOWN_DEPTH : node.depth;
            event.descendants = descendants;
            if (node != null && node.budgetNanos != UNKNOWN_SPAN) {
                long age = context.timeSource().nanoTime() - node.createdNanos;
                event.budget = node.budgetNanos;
                event.lateness = Math.max(0, age - node.budgetNanos);
            } else {
                event.budget = UNKNOWN_SPAN;
                event.lateness = deadline == null ? UNKNOWN_SPAN
                        : Math.max(0, nanosBetween(deadline, context.timeSource().now()));
            }
            event.commit();
        }

        /** Whether per-context data is wanted: a recording has an event on that reports depth or age. */
        private static boolean tracking() {
            return new ContextCancelledEvent().isEnabled() || new DeadlineExceededEvent().isEnabled();
        }

        /** What is kept for {@code context}, if anything; for tests. */
        @Nullable Node nodeOf(CancellableContext context) {
            return nodes.get(context);
        }

        /** Contexts tracked now; for tests. */
        int trackedCount() {
            return nodes.size();
        }
    }

    /**
     * What is known of one context from its creation. Holds its parent's node, never a context, so it keeps no
     * context alive; a chain of nodes lives as long as the deepest tracked context that needs it.
     *
     * @param unknownAbove the parent was created while tracking was off, so the lineage stops here
     */
    record Node(int identity, String kind, int depth, long createdNanos, long budgetNanos, @Nullable Node parent,
            boolean unknownAbove) {}

    static String id(Context context) {
        return Integer.toHexString(System.identityHashCode(context));
    }

    /**
     * "3f2a WithCancel > 91c0 WithDeadline > 77d1 WithCancel", root-most first; long chains keep the root-most
     * context and the nearest ones around an ellipsis.
     */
    static String lineage(CancellableContext context, @Nullable Node node) {
        if (node == null) {
            return "? > " + id(context);
        }
        ArrayDeque<Node> nearest = new ArrayDeque<>();
        Node above = node;
        while (above != null && nearest.size() < MAX_LINEAGE - 1) {
            nearest.push(above);
            above = above.parent;
        }
        StringBuilder out = new StringBuilder();
        Node top = nearest.getFirst();
        if (above != null) {
            Node root = above;
            while (root.parent != null) {
                root = root.parent;
            }
            if (root.unknownAbove) {
                out.append("? > ");
            }
            append(out, root);
            out.append(root == above ? " > " : " > … > ");
        } else if (top.unknownAbove) {
            out.append("? > "); // its parent was created while tracking was off
        }
        for (Node n : nearest) {
            append(out, n);
            out.append(" > ");
        }
        out.setLength(out.length() - 3);
        return out.toString();
    }

    private static void append(StringBuilder out, Node n) {
        out.append(Integer.toHexString(n.identity)).append(' ').append(n.kind);
    }

    static @Nullable String bounded(@Nullable String message) {
        if (message == null || message.length() <= MAX_MESSAGE) {
            return message;
        }
        return message.substring(0, MAX_MESSAGE - 1) + "…";
    }

    private static long nanosBetween(Instant from, Instant to) {
        try {
            return Duration.between(from, to).toNanos();
        } catch (ArithmeticException e) {
            return from.isBefore(to) ? Long.MAX_VALUE : Long.MIN_VALUE + 1;
        }
    }

    /**
     * A concurrent map from objects, compared by identity, to values, that does not keep its keys alive. Keys are
     * weak references registered with a queue; each put first removes the entries whose keys were collected, so the
     * map shrinks with the contexts it describes without a thread of its own. Lookups use a plain holder rather
     * than a reference, so they allocate nothing the JIT cannot remove.
     */
    static final class WeakIdentityMap<V> {
        private final ConcurrentHashMap<Object, V> map = new ConcurrentHashMap<>();
        private final ReferenceQueue<Object> queue = new ReferenceQueue<>();

        @Nullable V get(Object key) {
            return map.get(new Lookup(key));
        }

        void put(Object key, V value) {
            expunge();
            map.put(new WeakKey(key, queue), value);
        }

        boolean isEmpty() {
            return map.isEmpty();
        }

        int size() {
            expunge();
            return map.size();
        }

        void clear() {
            map.clear();
            expunge(); // references already queued need no removal now, but must not pile up in the queue
        }

        private void expunge() {
            for (Reference<?> r; (r = queue.poll()) != null; ) {
                map.remove(r);
            }
        }

        /** A key in the map: equal to itself, and to another key or lookup for the same live object. */
        private static final class WeakKey extends WeakReference<Object> {
            private final int hash;

            WeakKey(Object referent, ReferenceQueue<Object> queue) {
                super(referent, queue);
                this.hash = System.identityHashCode(referent);
            }

            @Override
            public boolean equals(Object o) {
                if (o == this) {
                    return true;
                }
                Object mine = get();
                if (mine == null) {
                    return false; // collected: only the reference itself (expunge) finds this entry
                }
                return o instanceof WeakKey k ? k.get() == mine : o instanceof Lookup l && l.key == mine;
            }

            @Override
            public int hashCode() {
                return hash;
            }
        }

        /** A lookup key; ConcurrentHashMap compares it with the stored key by calling this equals. */
        private record Lookup(Object key) {
            @Override
            public boolean equals(Object o) {
                return o instanceof WeakKey k && k.get() == key || o instanceof Lookup l && l.key == key;
            }

            @Override
            public int hashCode() {
                return System.identityHashCode(key);
            }
        }
    }
}
