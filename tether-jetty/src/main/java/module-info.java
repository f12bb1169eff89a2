/** Tether for Jetty 12: a core Handler that gives every request a context from its budget, with runtime protection. */
module dev.tether.jetty {
    requires transitive dev.tether.wire;
    requires transitive org.eclipse.jetty.server;
    requires static org.jspecify;

    exports dev.tether.jetty;
}
