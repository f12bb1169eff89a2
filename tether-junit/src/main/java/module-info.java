/** JUnit 5 support for Tether: a root context per test, leak checks per test and for the whole run. */
module dev.tether.junit {
    requires transitive dev.tether.leak;
    requires transitive org.junit.jupiter.api;
    requires transitive org.junit.platform.launcher;
    requires static org.jspecify;

    exports dev.tether.junit;

    provides org.junit.platform.launcher.TestExecutionListener with dev.tether.junit.TetherRunListener;
}
