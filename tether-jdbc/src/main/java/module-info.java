/** Tether for JDBC: statements that take their timeout from the current context and stop when it ends. */
module dev.tether.jdbc {
    requires transitive dev.tether;
    requires transitive java.sql;
    requires static org.jspecify;

    exports dev.tether.jdbc;
}
