package dev.tether.wire;

import dev.tether.TimeSource;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * A server's policy for the budget a request gets: whatever the peer offers, capped by the server's own maximum,
 * minus a reserve kept back for writing the response. Immutable and thread-safe; build one per server.
 *
 * {@snippet :
 * InboundBudget policy = InboundBudget.builder()
 *         .maxBudget(Duration.ofSeconds(10))      // never more than this, whatever the peer says
 *         .defaultBudget(Duration.ofSeconds(2))   // when the peer says nothing
 *         .reserve(Duration.ofMillis(20))         // left over to write a 504 or the response
 *         .build();
 * InboundBudget.Result r = policy.read(request.getHeaders()::get);
 * if (r.belowMinimum()) { ... answer 504 at once ... }
 * CancellableContext ctx = serverContext.withTimeout(r.budget());
 * }
 *
 * <h2>What is read</h2>
 * Every one of {@value WireHeaders#BUDGET}, {@value WireHeaders#GRPC_TIMEOUT},
 * {@value WireHeaders#ENVOY_TIMEOUT} and {@value WireHeaders#FINAGLE_DEADLINE} that is present and valid is an
 * offer, and the smallest offer wins (the earliest deadline wins, as on a context tree); on a tie the first in
 * that order wins. {@value WireHeaders#ORIGIN} names the origin of a {@code tether-budget} or {@code grpc-timeout}
 * offer. Nothing is trusted: a value longer than {@value #MAX_VALUE} characters is rejected unread, a malformed one
 * is rejected, a huge one is capped by the maximum, a zero one leaves no budget, and each is reported in
 * {@link Result#notes()} for the log, hostile characters shown by code. Reading never throws for what a peer sent.
 */
public final class InboundBudget {

    /** Longest budget header value read; longer ones are rejected before they are scanned. */
    public static final int MAX_VALUE = 64;

    private final Duration maxBudget;
    private final Duration defaultBudget;
    private final Duration reserve;
    private final Duration minBudget;
    private final TimeSource timeSource;

    private InboundBudget(Builder b) {
        this.maxBudget = b.maxBudget;
        this.defaultBudget = b.defaultBudget != null ? b.defaultBudget : b.maxBudget;
        this.reserve = b.reserve;
        this.minBudget = b.minBudget;
        this.timeSource = b.timeSource;
    }

    /** A builder with a 30 s maximum, that as the default, no reserve and no minimum. */
    public static Builder builder() {
        return new Builder();
    }

    /** The server's own cap on any budget. */
    public Duration maxBudget() {
        return maxBudget;
    }

    /** The budget of a request that offers none, before the reserve. */
    public Duration defaultBudget() {
        return defaultBudget;
    }

    /** Kept back from every budget for the response path. */
    public Duration reserve() {
        return reserve;
    }

    /** A request whose budget (after the reserve) is below this is not worth starting. */
    public Duration minBudget() {
        return minBudget;
    }

    /** Where a budget came from. */
    public enum Source {
        /** {@value WireHeaders#BUDGET}, from a Tether client. */
        TETHER_BUDGET(WireHeaders.BUDGET),
        /** {@value WireHeaders#GRPC_TIMEOUT}, from a gRPC client (or a Tether client, which sends both). */
        GRPC_TIMEOUT(WireHeaders.GRPC_TIMEOUT),
        /** {@value WireHeaders#ENVOY_TIMEOUT}, from an Envoy proxy in front of this server. */
        ENVOY(WireHeaders.ENVOY_TIMEOUT),
        /** {@value WireHeaders#FINAGLE_DEADLINE}, from a Finagle client; absolute, so subject to clock skew. */
        FINAGLE(WireHeaders.FINAGLE_DEADLINE),
        /** No valid offer: the server's default budget. */
        SERVER_DEFAULT(null);

        private final @Nullable String header;

        Source(@Nullable String header) {
            this.header = header;
        }

        /** The header this source is read from; null for {@link #SERVER_DEFAULT}. */
        public @Nullable String header() {
            return header;
        }
    }

    /**
     * Reads the budget a request offers.
     *
     * @param header the request's value for a lower-case header name, or null if absent; called once per name
     * @throws NullPointerException if header is null
     */
    public Result read(Function<String, @Nullable String> header) {
        Objects.requireNonNull(header, "header");
        List<String> notes = new ArrayList<>(2);
        Duration offered = null;
        Source source = Source.SERVER_DEFAULT;
        for (Source candidate : List.of(Source.TETHER_BUDGET, Source.GRPC_TIMEOUT, Source.ENVOY, Source.FINAGLE)) {
            String name = Objects.requireNonNull(candidate.header);
            String raw = header.apply(name);
            if (raw == null) {
                continue;
            }
            Duration offer = offer(candidate, raw, notes);
            if (offer != null && (offered == null || offer.compareTo(offered) < 0)) {
                offered = offer;
                source = candidate;
            }
        }
        DeadlineOrigin peerOrigin = null;
        String rawOrigin = header.apply(WireHeaders.ORIGIN);
        if (rawOrigin != null && (source == Source.TETHER_BUDGET || source == Source.GRPC_TIMEOUT)) {
            try {
                // Trimmed only once it is known to be short: a megabyte of spaces is not worth copying.
                peerOrigin = DeadlineOrigin.parse(
                        rawOrigin.length() > DeadlineOrigin.MAX_HEADER ? rawOrigin : Ascii.trimOws(rawOrigin));
            } catch (IllegalArgumentException e) {
                notes.add(e.getMessage() + "; origin ignored");
            }
        }
        Duration granted = offered != null ? offered : defaultBudget;
        boolean capped = granted.compareTo(maxBudget) > 0;
        if (capped) {
            notes.add(source.header + " offered " + granted + ", capped at the server maximum " + maxBudget);
            granted = maxBudget;
        }
        Duration budget = granted.minus(reserve);
        if (budget.isNegative()) {
            budget = Duration.ZERO;
        }
        boolean belowMinimum = budget.isZero() || budget.compareTo(minBudget) < 0;
        return new Result(budget, offered, source, peerOrigin, capped, belowMinimum, List.copyOf(notes));
    }

    /** The budget one header offers, or null (with a note) if it offers none. */
    private @Nullable Duration offer(Source source, String raw, List<String> notes) {
        String name = source.header;
        if (raw.length() > MAX_VALUE) {
            notes.add(name + " rejected: " + raw.length() + " characters (expected: at most " + MAX_VALUE + ")");
            return null;
        }
        String value = Ascii.trimOws(raw);
        String problem;
        switch (source) {
            case TETHER_BUDGET, GRPC_TIMEOUT -> {
                problem = GrpcTimeout.problem(value);
                if (problem == null) {
                    return GrpcTimeout.decode(value);
                }
            }
            case ENVOY -> {
                problem = digitsProblem(value, 0, value.length());
                if (problem == null) {
                    long millis = saturatedDigits(value, 0, value.length());
                    if (millis == 0) {
                        notes.add(name + " ignored: 0 (Envoy's 'no timeout')");
                        return null;
                    }
                    return Duration.ofMillis(millis);
                }
            }
            case FINAGLE -> {
                int space = value.indexOf(' ');
                problem = space < 0
                        ? "expected: two numbers of nanoseconds since the epoch separated by a space"
                        : digitsProblem(value, 0, space);
                if (problem == null) {
                    problem = digitsProblem(value, space + 1, value.length());
                }
                if (problem == null) {
                    long deadlineNanos = saturatedDigits(value, space + 1, value.length());
                    long left = saturatedSubtract(deadlineNanos, epochNanos(timeSource.now()));
                    return left > 0 ? Duration.ofNanos(left) : Duration.ZERO;
                }
            }
            default -> throw new AssertionError(source);
        }
        notes.add(name + " rejected: " + problem);
        return null;
    }

    private static @Nullable String digitsProblem(String value, int from, int to) {
        if (from == to) {
            return "no digits at index " + from;
        }
        for (int i = from; i < to; i++) {
            char c = value.charAt(i);
            if (!Ascii.isDigit(c)) {
                return "character " + Ascii.describe(c) + " at index " + i + " (expected: a digit 0-9)";
            }
        }
        return null;
    }

    /** Decimal digits already checked, as a long; values beyond Long.MAX_VALUE saturate (they get capped anyway). */
    private static long saturatedDigits(String value, int from, int to) {
        long n = 0;
        for (int i = from; i < to; i++) {
            int digit = value.charAt(i) - '0';
            if (n > (Long.MAX_VALUE - digit) / 10) {
                return Long.MAX_VALUE;
            }
            n = n * 10 + digit;
        }
        return n;
    }

    private static long epochNanos(Instant now) {
        long seconds = now.getEpochSecond();
        if (seconds > Long.MAX_VALUE / 1_000_000_000L - 1) {
            return Long.MAX_VALUE;
        }
        return seconds * 1_000_000_000L + now.getNano();
    }

    private static long saturatedSubtract(long a, long b) {
        long r = a - b;
        // Overflow only if the operands' signs differ and the result's sign differs from a's.
        return ((a ^ b) & (a ^ r)) < 0 ? (a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE) : r;
    }

    @Override
    public String toString() {
        return "InboundBudget[max=" + maxBudget + ", default=" + defaultBudget + ", reserve=" + reserve
                + ", min=" + minBudget + "]";
    }

    /** What {@link #read} made of a request's headers. Immutable. */
    public static final class Result {
        private final Duration budget;
        private final @Nullable Duration offered;
        private final Source source;
        private final @Nullable DeadlineOrigin peerOrigin;
        private final boolean capped;
        private final boolean belowMinimum;
        private final List<String> notes;

        Result(Duration budget, @Nullable Duration offered, Source source, @Nullable DeadlineOrigin peerOrigin,
                boolean capped, boolean belowMinimum, List<String> notes) {
            this.budget = budget;
            this.offered = offered;
            this.source = source;
            this.peerOrigin = peerOrigin;
            this.capped = capped;
            this.belowMinimum = belowMinimum;
            this.notes = notes;
        }

        /** The handler's budget: the offer (or the default), capped by the maximum, less the reserve; never negative. */
        public Duration budget() {
            return budget;
        }

        /** The smallest valid offer as the peer sent it, before the cap and the reserve; null if there was none. */
        public @Nullable Duration offered() {
            return offered;
        }

        /** Which header the offer came from, or {@link Source#SERVER_DEFAULT}. */
        public Source source() {
            return source;
        }

        /** The valid {@value WireHeaders#ORIGIN} that came with a tether-budget or grpc-timeout offer, else null. */
        public @Nullable DeadlineOrigin peerOrigin() {
            return peerOrigin;
        }

        /** Whether the server's maximum cut the offer. */
        public boolean capped() {
            return capped;
        }

        /** Whether the budget is zero or below the policy's minimum: the request should end at once with a 504. */
        public boolean belowMinimum() {
            return belowMinimum;
        }

        /** Whether this server's own policy set the deadline: no valid offer, or the maximum capped it. */
        public boolean setByServer() {
            return source == Source.SERVER_DEFAULT || capped;
        }

        /**
         * Who set the deadline this budget counts down to: {@code self} if {@link #setByServer()}, else the peer's
         * origin, else {@code peer/<header>} (a peer that named no origin, such as Envoy or a plain gRPC client).
         */
        public DeadlineOrigin origin(DeadlineOrigin self) {
            Objects.requireNonNull(self, "self");
            if (setByServer()) {
                return self;
            }
            return peerOrigin != null ? peerOrigin : new DeadlineOrigin("peer", Objects.requireNonNull(source.header));
        }

        /** What was rejected, ignored or capped, one line each, safe to log: hostile characters shown by code. */
        public List<String> notes() {
            return notes;
        }

        @Override
        public String toString() {
            return "budget " + budget + " (" + (offered == null ? "server default" : "offered " + offered + " via "
                    + source.header + (peerOrigin == null ? "" : " by " + peerOrigin))
                    + (capped ? ", capped" : "") + (belowMinimum ? ", below minimum" : "") + ")";
        }
    }

    /** Builds an {@link InboundBudget}; every duration is checked where it is set, their relations in {@link #build}. */
    public static final class Builder {
        private Duration maxBudget = Duration.ofSeconds(30);
        private @Nullable Duration defaultBudget;
        private Duration reserve = Duration.ZERO;
        private Duration minBudget = Duration.ZERO;
        private TimeSource timeSource = TimeSource.system();

        private Builder() {
        }

        /** The server's own cap on any budget; more than zero. Default 30 s. */
        public Builder maxBudget(Duration maxBudget) {
            this.maxBudget = positive(maxBudget, "maxBudget");
            return this;
        }

        /** The budget of a request that offers none; more than zero, at most the maximum. Default: the maximum. */
        public Builder defaultBudget(Duration defaultBudget) {
            this.defaultBudget = positive(defaultBudget, "defaultBudget");
            return this;
        }

        /** Kept back from every budget for the response path; zero or more, less than the maximum. Default zero. */
        public Builder reserve(Duration reserve) {
            this.reserve = notNegative(reserve, "reserve");
            return this;
        }

        /** Budgets below this (after the reserve) are reported {@link Result#belowMinimum()}. Default zero. */
        public Builder minBudget(Duration minBudget) {
            this.minBudget = notNegative(minBudget, "minBudget");
            return this;
        }

        /** The clock absolute deadlines (Finagle's) are read against. Default {@link TimeSource#system()}. */
        public Builder timeSource(TimeSource timeSource) {
            this.timeSource = Objects.requireNonNull(timeSource, "timeSource");
            return this;
        }

        /**
         * The policy.
         *
         * @throws IllegalArgumentException if the default exceeds the maximum or the reserve is not below it
         */
        public InboundBudget build() {
            if (defaultBudget != null && defaultBudget.compareTo(maxBudget) > 0) {
                throw new IllegalArgumentException(
                        "defaultBudget: " + defaultBudget + " (expected: at most maxBudget " + maxBudget + ")");
            }
            if (reserve.compareTo(maxBudget) >= 0) {
                throw new IllegalArgumentException(
                        "reserve: " + reserve + " (expected: less than maxBudget " + maxBudget + ")");
            }
            return new InboundBudget(this);
        }

        static Duration positive(Duration d, String name) {
            Objects.requireNonNull(d, name);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + ": " + d + " (expected: > 0)");
            }
            return d;
        }

        static Duration notNegative(Duration d, String name) {
            Objects.requireNonNull(d, name);
            if (d.isNegative()) {
                throw new IllegalArgumentException(name + ": " + d + " (expected: >= 0)");
            }
            return d;
        }
    }
}
