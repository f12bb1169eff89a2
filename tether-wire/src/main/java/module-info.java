/** Tether's wire protocol: deadline budget, deadline origin and early-end headers, and the budget policies. */
module dev.tether.wire {
    requires transitive dev.tether;
    requires static org.jspecify;

    exports dev.tether.wire;
}
