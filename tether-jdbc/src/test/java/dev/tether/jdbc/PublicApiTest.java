package dev.tether.jdbc;

import dev.tether.testing.ApiListing;
import org.junit.jupiter.api.Test;

/** tether-jdbc's public API against the committed listing {@code src/test/resources/dev.tether.jdbc.api}; see {@link ApiListing}. */
class PublicApiTest {

    @Test
    void publicApiMatchesTheCommittedListing() {
        ApiListing.check(TetherDataSource.class, "dev.tether.jdbc");
    }
}
