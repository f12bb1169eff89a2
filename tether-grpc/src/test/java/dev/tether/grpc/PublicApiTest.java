package dev.tether.grpc;

import dev.tether.testing.ApiListing;
import org.junit.jupiter.api.Test;

/** tether-grpc's public API against the committed listing {@code src/test/resources/dev.tether.grpc.api}; see {@link ApiListing}. */
class PublicApiTest {

    @Test
    void publicApiMatchesTheCommittedListing() {
        ApiListing.check(TetherClientInterceptor.class, "dev.tether.grpc");
    }
}
