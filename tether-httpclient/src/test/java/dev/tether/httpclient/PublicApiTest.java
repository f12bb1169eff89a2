package dev.tether.httpclient;

import dev.tether.testing.ApiListing;
import org.junit.jupiter.api.Test;

/** tether-httpclient's public API against the committed listing {@code src/test/resources/dev.tether.httpclient.api}; see {@link ApiListing}. */
class PublicApiTest {

    @Test
    void publicApiMatchesTheCommittedListing() {
        ApiListing.check(TetherHttpClient.class, "dev.tether.httpclient");
    }
}
