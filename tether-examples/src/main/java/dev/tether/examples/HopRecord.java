package dev.tether.examples;

import dev.tether.wire.EndedEarly;
import dev.tether.wire.InboundBudget;
import dev.tether.wire.InboundCall;
import dev.tether.wire.PeerEndedException;
import dev.tether.wire.RequestEndedException;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * What one hop of the chain demo saw of one call: the budget it received and where that came from, the deadline's
 * origin, how the call ended and the time it took; the demo prints it as one line.
 *
 * @param received where the budget came from: {@code server default}, or {@code offered 1849ms via tether-budget}
 * @param endedEarly whether the hop's context ended before its work was done (its deadline, its client leaving,
 *     or a call it made ending early)
 * @param endedAt {@link System#nanoTime()} when the hop's request context ended, or {@link #NOT_ENDED}; read through
 *     {@link #contextEndedNanos()}, since the context's end may be noted a moment after the call was recorded
 * @param query the database statement the hop ran, for the last hop; null for the others
 */
record HopRecord(String service, Duration budget, String received, String origin, Duration elapsed, String outcome,
        boolean endedEarly, LongSupplier endedAt, @Nullable CompletableFuture<QueryOutcome> query) {

    static final long NOT_ENDED = Long.MIN_VALUE;

    /** The record of a call on an HTTP hop, from tether-jetty's {@link InboundCall} at completion. */
    static HopRecord of(InboundCall call, LongSupplier endedAt) {
        InboundBudget.Result budget = call.budget();
        String received = budget.offered() == null ? "server default"
                : "offered " + millis(budget.offered()) + " via " + budget.source().header()
                        + (budget.capped() ? ", capped" : "");
        Throwable failure = call.failure();
        EndedEarly relayed = failure == null ? null : InboundCall.endedBy(failure);
        String outcome;
        if (call.isEndedEarly()) {
            EndedEarly ended = call.endedEarly();
            outcome = "ended early: " + (ended == null ? "?" : describe(ended));
        } else if (relayed != null) {
            outcome = "gave up, answered " + InboundCall.httpStatus(failure) + ": " + peerOf(failure)
                    + " ended the call early (" + relayed.kind().token() + ")";
        } else if (failure != null) {
            outcome = "failed: " + failure.getClass().getSimpleName();
        } else {
            outcome = "completed";
        }
        return new HopRecord(call.self().service(), budget.budget(), received, call.origin().toString(),
                call.elapsed(), outcome, call.isEndedEarly() || relayed != null, endedAt, null);
    }

    /** When the hop's request context ended, or {@link #NOT_ENDED} if it has not (yet). */
    long contextEndedNanos() {
        return endedAt.getAsLong();
    }

    /** Why a context ended, in a few words: the kind, and for a client that left, that it left. */
    static String describe(EndedEarly ended) {
        if (ended.kind() == EndedEarly.Kind.DEADLINE_EXCEEDED) {
            return "deadline exceeded";
        }
        return ended.reason().startsWith("client disconnected") ? "cancelled, the client went away"
                : "cancelled (" + ended.reason() + ")";
    }

    /** Why a context ended, from its cause, as {@link #describe(EndedEarly)} says it. */
    static String describe(@Nullable Throwable cause, boolean deadline) {
        if (deadline) {
            return "deadline exceeded";
        }
        if (cause instanceof RequestEndedException e && e.why() == RequestEndedException.Why.CLIENT_DISCONNECTED) {
            return "cancelled, the client went away";
        }
        return "cancelled" + (cause == null ? "" : " (" + cause.getMessage() + ")");
    }

    /** The service a failed call went to: a gRPC peer is named {@code authority/method}, so its authority. */
    private static String peerOf(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof PeerEndedException peer) {
                int slash = peer.peer().indexOf('/');
                return slash < 0 ? peer.peer() : peer.peer().substring(0, slash);
            }
        }
        return "a call it made";
    }

    /** The hop's line: service, budget, where it came from, origin, time, outcome. */
    String line() {
        return String.format(Locale.ROOT, "  %-10s %7s  %-34s %-22s %9s  %s", service, millis(budget), received,
                origin, String.format(Locale.ROOT, "%.1f ms", elapsed.toNanos() / 1e6), outcome);
    }

    /** The header line for {@link #line()}. */
    static String header() {
        return String.format(Locale.ROOT, "  %-10s %7s  %-34s %-22s %9s  %s", "hop", "budget", "budget came from",
                "deadline set by", "time", "what happened");
    }

    static String millis(Duration d) {
        return d.toMillis() + "ms";
    }
}
