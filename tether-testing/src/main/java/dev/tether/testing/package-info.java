/**
 * Fixtures for tests and demos, never for production: {@link dev.tether.testing.ThrowawayPostgres}, a PostgreSQL
 * server started for the run and deleted after it.
 */
@NullMarked
package dev.tether.testing;

import org.jspecify.annotations.NullMarked;
