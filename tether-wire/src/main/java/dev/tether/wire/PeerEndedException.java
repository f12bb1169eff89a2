package dev.tether.wire;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The service a call went to ended the request early and said why in {@value WireHeaders#ENDED}. Clients throw it
 * so that the caller's exception carries the far end's reason: at a gateway, the message reads
 * {@code orders ended the call early: deadline-exceeded: inventory ended the call early: ...} down the chain.
 *
 * <p>The caller's own context may still be live (the peer's budget is the caller's less a per-hop reserve, and
 * the peer may cap it further); when it is done too, clients throw the context's error instead.
 */
public final class PeerEndedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String peer;
    private final EndedEarly ended;

    /**
     * @param peer whom the call went to, as the caller names it (a service name, or host and port)
     * @param ended what the peer sent
     * @param cause what else the client knows, such as the caller's own context error; may be null
     */
    public PeerEndedException(String peer, EndedEarly ended, @Nullable Throwable cause) {
        super(EndedEarly.sanitize(Objects.requireNonNull(peer, "peer")) + " ended the call early: "
                + Objects.requireNonNull(ended, "ended"), cause);
        this.peer = EndedEarly.sanitize(peer);
        this.ended = ended;
    }

    /** Whom the call went to, sanitized like a reason. */
    public String peer() {
        return peer;
    }

    /** What the peer sent: the kind and its reason. */
    public EndedEarly ended() {
        return ended;
    }
}
