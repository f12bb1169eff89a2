/** Tether for Jakarta Servlet 6: a Filter that gives every request a context from its budget, with runtime protection. */
module dev.tether.servlet {
    requires transitive dev.tether.wire;
    requires transitive jakarta.servlet;
    requires static org.jspecify;

    exports dev.tether.servlet;
}
