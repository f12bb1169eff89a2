package dev.tether.grpc;

import dev.tether.wire.DeadlineOrigin;
import java.util.concurrent.ConcurrentHashMap;

/**
 * This service's origin for each gRPC method, made once per method rather than once per call. A service has few
 * methods; past {@link #MAX} distinct names (a generic client calling whatever it is told) origins are made per
 * call instead of kept.
 */
final class SelfOrigins {

    static final int MAX = 1024;

    private final String service;
    private final ConcurrentHashMap<String, DeadlineOrigin> byMethod = new ConcurrentHashMap<>();

    SelfOrigins(String service) {
        this.service = service;
    }

    DeadlineOrigin get(String method) {
        DeadlineOrigin origin = byMethod.get(method);
        if (origin == null) {
            origin = DeadlineOrigin.sanitized(service, method);
            if (byMethod.size() < MAX) {
                byMethod.putIfAbsent(method, origin);
            }
        }
        return origin;
    }
}
