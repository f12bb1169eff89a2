package dev.tether.jdbc;

import dev.tether.testing.ThrowawayPostgres;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Starts the shared {@link ThrowawayPostgres} before a test class's first test and hands it to any test or
 * lifecycle method that declares a {@code ThrowawayPostgres} parameter. The cluster is kept in the root store, so
 * JUnit stops it when the whole run ends (a JVM shutdown hook does, too, if the run is killed). A cluster that
 * cannot be started fails the class with the reason; the tests never pass without a server.
 */
final class PostgresExtension implements BeforeAllCallback, ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(PostgresExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        cluster(context);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == ThrowawayPostgres.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return cluster(context);
    }

    private static ThrowawayPostgres cluster(ExtensionContext context) {
        return context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent(ThrowawayPostgres.class,
                type -> ThrowawayPostgres.shared(), ThrowawayPostgres.class);
    }
}
