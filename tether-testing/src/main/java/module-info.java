/** Fixtures for Tether's tests and demos: a throwaway PostgreSQL server on a loopback port. */
// pgjdbc is an automatic module (org.postgresql.jdbc, named in its manifest); DataSource comes from java.sql.
@SuppressWarnings("requires-automatic")
module dev.tether.testing {
    requires transitive java.sql;
    requires java.naming;   // pgjdbc's data sources are JNDI Referenceables
    requires org.postgresql.jdbc;
    requires static org.jspecify;

    exports dev.tether.testing;
}
