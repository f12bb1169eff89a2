package dev.tether;

import dev.tether.testing.ApiListing;
import org.junit.jupiter.api.Test;

/**
 * tether-core's public API (both exported packages) against the committed listing
 * {@code src/test/resources/dev.tether.api}; see {@link ApiListing}.
 */
class PublicApiTest {

    @Test
    void publicApiMatchesTheCommittedListing() {
        ApiListing.check(Context.class, "dev.tether", "dev.tether.spi");
    }
}
