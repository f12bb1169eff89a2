package dev.tether.jetty;

import dev.tether.testing.ApiListing;
import org.junit.jupiter.api.Test;

/** tether-jetty's public API against the committed listing {@code src/test/resources/dev.tether.jetty.api}; see {@link ApiListing}. */
class PublicApiTest {

    @Test
    void publicApiMatchesTheCommittedListing() {
        ApiListing.check(TetherHandler.class, "dev.tether.jetty");
    }
}
