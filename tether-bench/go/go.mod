module tether.dev/bench

go 1.19
