/** Leak detection for Tether: work that outlives its context, lost cancels, JFR events and the live context map. */
module dev.tether.leak {
    requires transitive dev.tether;
    requires jdk.jfr;
    requires static org.jspecify;

    exports dev.tether.leak;
}
