package dev.tether.otel;

import dev.tether.testing.ApiListing;
import org.junit.jupiter.api.Test;

/** tether-otel's public API against the committed listing {@code src/test/resources/dev.tether.otel.api}; see {@link ApiListing}. */
class PublicApiTest {

    @Test
    void publicApiMatchesTheCommittedListing() {
        ApiListing.check(TetherSpans.class, "dev.tether.otel");
    }
}
