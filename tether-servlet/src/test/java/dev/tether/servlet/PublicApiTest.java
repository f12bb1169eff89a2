package dev.tether.servlet;

import dev.tether.testing.ApiListing;
import org.junit.jupiter.api.Test;

/** tether-servlet's public API against the committed listing {@code src/test/resources/dev.tether.servlet.api}; see {@link ApiListing}. */
class PublicApiTest {

    @Test
    void publicApiMatchesTheCommittedListing() {
        ApiListing.check(TetherFilter.class, "dev.tether.servlet");
    }
}
