package dev.tether.jdbc;

import java.sql.Connection;
import java.sql.ConnectionBuilder;
import java.sql.SQLException;
import java.sql.ShardingKey;
import org.jspecify.annotations.NullUnmarked;

/** The delegate's {@link ConnectionBuilder}, whose {@link #build()} is guarded like {@code getConnection()}. */
@NullUnmarked
final class TetherConnectionBuilder implements ConnectionBuilder {

    private final TetherDataSource source;
    private final ConnectionBuilder delegate;

    TetherConnectionBuilder(TetherDataSource source, ConnectionBuilder delegate) {
        this.source = source;
        this.delegate = delegate;
    }

    @Override
    public ConnectionBuilder user(String username) {
        delegate.user(username);
        return this;
    }

    @Override
    public ConnectionBuilder password(String password) {
        delegate.password(password);
        return this;
    }

    @Override
    public ConnectionBuilder shardingKey(ShardingKey shardingKey) {
        delegate.shardingKey(shardingKey);
        return this;
    }

    @Override
    public ConnectionBuilder superShardingKey(ShardingKey superShardingKey) {
        delegate.superShardingKey(superShardingKey);
        return this;
    }

    @Override
    public Connection build() throws SQLException {
        return source.acquire(dev.tether.Context.current(), delegate::build);
    }
}
