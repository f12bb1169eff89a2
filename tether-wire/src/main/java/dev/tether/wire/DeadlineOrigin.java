package dev.tether.wire;

import dev.tether.Context;
import dev.tether.Key;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Who set a deadline: the service and the operation whose budget a request is spending. Carried in
 * {@value WireHeaders#ORIGIN} as {@code service "/" operation}, so a timeout three hops away can say that the
 * gateway's checkout budget ran out, not just that something did.
 *
 * {@snippet :
 * DeadlineOrigin origin = DeadlineOrigin.parse("gateway/POST:/checkout");   // service "gateway", operation "POST:/checkout"
 * Context ctx = origin.bindTo(request.withTimeout(budget));
 * DeadlineOrigin.from(ctx);                                                  // the same origin
 * }
 *
 * <p>A service is 1 to {@value #MAX_SERVICE} token characters (RFC 9110 {@code tchar}); an operation is 0 to
 * {@value #MAX_OPERATION} token characters or {@code / : @}. Nothing else is accepted, so an origin can never carry
 * a space, a quote, CR or LF into a header or a log line. {@link #sanitized} builds a valid origin from any text.
 *
 * <h2>Binding to a context</h2>
 * {@link #bindTo} records the origin together with the context's deadline; {@link #from} returns it only while
 * that is still the deadline in force. Code that tightens the deadline locally ({@code ctx.withTimeout(50ms)})
 * therefore no longer reports the caller as the origin: the origin is a claim about one deadline, not a label.
 *
 * @param service the service that set the deadline
 * @param operation what it was doing, possibly empty
 */
public record DeadlineOrigin(String service, String operation) {

    /** The longest service name. */
    public static final int MAX_SERVICE = 64;

    /** The longest operation. */
    public static final int MAX_OPERATION = 128;

    /** The longest header value: a service, a slash and an operation. */
    public static final int MAX_HEADER = MAX_SERVICE + 1 + MAX_OPERATION;

    // The origin with the deadline it describes; only this class can read or write it.
    private static final Key<Bound> KEY = Key.of("tether.deadlineOrigin");

    private record Bound(DeadlineOrigin origin, Optional<Instant> deadline) {
    }

    /**
     * Checks both parts.
     *
     * @throws NullPointerException if either is null
     * @throws IllegalArgumentException if the service is empty, either is too long, or either holds a character
     *     outside its class (shown by code in the message)
     */
    public DeadlineOrigin {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(operation, "operation");
        if (service.isEmpty()) {
            throw new IllegalArgumentException("service: empty (expected: 1 to " + MAX_SERVICE + " token characters)");
        }
        if (service.length() > MAX_SERVICE) {
            throw new IllegalArgumentException(
                    "service: " + service.length() + " characters (expected: at most " + MAX_SERVICE + ")");
        }
        if (operation.length() > MAX_OPERATION) {
            throw new IllegalArgumentException(
                    "operation: " + operation.length() + " characters (expected: at most " + MAX_OPERATION + ")");
        }
        for (int i = 0; i < service.length(); i++) {
            char c = service.charAt(i);
            if (!Ascii.isTchar(c)) {
                throw new IllegalArgumentException("service: character " + Ascii.describe(c) + " at index " + i
                        + " (expected: letters, digits or !#$%&'*+-.^_`|~)");
            }
        }
        for (int i = 0; i < operation.length(); i++) {
            char c = operation.charAt(i);
            if (!isOperationChar(c)) {
                throw new IllegalArgumentException("operation: character " + Ascii.describe(c) + " at index " + i
                        + " (expected: letters, digits or !#$%&'*+-.^_`|~/:@)");
            }
        }
    }

    /**
     * An origin for a service and an operation given as free text, such as a configured service name and an HTTP
     * method and path: every character an origin may not hold becomes {@code _}, each part is cut to its maximum
     * length, and an empty service becomes {@code "unnamed"}. Never throws for non-null arguments.
     */
    public static DeadlineOrigin sanitized(String service, String operation) {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(operation, "operation");
        String s = replaceInvalid(service, MAX_SERVICE, false);
        return new DeadlineOrigin(s.isEmpty() ? "unnamed" : s, replaceInvalid(operation, MAX_OPERATION, true));
    }

    /**
     * Reads a {@value WireHeaders#ORIGIN} value: the service up to the first {@code /}, the operation after it
     * (none if there is no {@code /}).
     *
     * @throws NullPointerException if headerValue is null
     * @throws IllegalArgumentException if it is longer than {@value #MAX_HEADER} characters (checked first) or
     *     either part is invalid
     */
    public static DeadlineOrigin parse(String headerValue) {
        Objects.requireNonNull(headerValue, "headerValue");
        if (headerValue.length() > MAX_HEADER) {
            throw new IllegalArgumentException(WireHeaders.ORIGIN + ": " + headerValue.length()
                    + " characters (expected: at most " + MAX_HEADER + ")");
        }
        int slash = headerValue.indexOf('/');
        return slash < 0
                ? new DeadlineOrigin(headerValue, "")
                : new DeadlineOrigin(headerValue.substring(0, slash), headerValue.substring(slash + 1));
    }

    /** The {@value WireHeaders#ORIGIN} value: {@code service/operation}, or the service alone. */
    public String headerValue() {
        return operation.isEmpty() ? service : service + "/" + operation;
    }

    /**
     * A child of {@code ctx} that names this origin for {@code ctx}'s current deadline (or for its having none).
     * Bind it after deriving the context whose deadline this origin set.
     */
    public Context bindTo(Context ctx) {
        Objects.requireNonNull(ctx, "ctx");
        return ctx.withValue(KEY, new Bound(this, ctx.deadline()));
    }

    /**
     * The origin bound to {@code ctx} by {@link #bindTo}, if the deadline it was bound for is still the one in
     * force; null if none was bound or the deadline has changed since (a descendant tightened it, and nobody
     * named who did).
     */
    public static @Nullable DeadlineOrigin from(Context ctx) {
        Objects.requireNonNull(ctx, "ctx");
        Bound bound = ctx.value(KEY);
        return bound != null && bound.deadline().equals(ctx.deadline()) ? bound.origin() : null;
    }

    /** The header value. */
    @Override
    public String toString() {
        return headerValue();
    }

    private static boolean isOperationChar(char c) {
        return Ascii.isTchar(c) || c == '/' || c == ':' || c == '@';
    }

    private static String replaceInvalid(String text, int max, boolean operation) {
        int length = Math.min(text.length(), max);
        StringBuilder out = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            char c = text.charAt(i);
            out.append(operation ? (isOperationChar(c) ? c : '_') : (Ascii.isTchar(c) ? c : '_'));
        }
        return out.toString();
    }
}
