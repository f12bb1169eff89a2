/** Tether's examples: the demo the README runs first. */
module dev.tether.examples {
    requires dev.tether;
}
