/** Tether's context: cancellation tree, deadlines, causes, typed values and current-context binding. */
module dev.tether {
    requires static transitive org.jspecify;

    exports dev.tether;
    exports dev.tether.spi;
}
