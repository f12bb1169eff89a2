package dev.tether.wire;

import dev.tether.testing.ApiListing;
import org.junit.jupiter.api.Test;

/** tether-wire's public API against the committed listing {@code src/test/resources/dev.tether.wire.api}; see {@link ApiListing}. */
class PublicApiTest {

    @Test
    void publicApiMatchesTheCommittedListing() {
        ApiListing.check(GrpcTimeout.class, "dev.tether.wire");
    }
}
