package dev.tether.leak;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingStream;

/**
 * An in-process {@link RecordingStream} with the given Tether events on, collecting what it receives into a queue
 * that tests wait on with a bound. Events from one thread arrive in the order they were committed.
 */
final class EventCollector implements AutoCloseable {

    static final Duration WAIT = Duration.ofSeconds(20);

    final RecordingStream stream;
    private final BlockingQueue<RecordedEvent> received = new LinkedBlockingQueue<>();
    private final List<RecordedEvent> seen = new ArrayList<>();

    private EventCollector(RecordingStream stream) {
        this.stream = stream;
    }

    /** A started stream with {@code names} enabled at their default settings. */
    static EventCollector start(String... names) {
        EventCollector c = configure(names);
        c.begin();
        return c;
    }

    /** A stream with {@code names} enabled but not yet started, so a test can change their settings first. */
    static EventCollector configure(String... names) {
        RecordingStream stream = new RecordingStream();
        for (String name : names) {
            stream.enable(name);
        }
        EventCollector c = new EventCollector(stream);
        stream.onEvent(c.received::add);
        stream.setMaxAge(Duration.ofSeconds(30));
        return c;
    }

    /** Starts the recording (at once) and the streaming (in the background): events committed from now on arrive. */
    void begin() {
        stream.startAsync();
    }

    /** The next event named {@code name}, skipping (but keeping) others; fails after {@link #WAIT}. */
    RecordedEvent next(String name) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            RecordedEvent e = left <= 0 ? null : received.poll(left, TimeUnit.NANOSECONDS);
            if (e == null) {
                throw new AssertionError("no " + name + " event within " + WAIT + "; received " + names(seen));
            }
            seen.add(e);
            if (e.getEventType().getName().equals(name)) {
                return e;
            }
        }
    }

    /** Every event received so far, including those {@link #next} skipped. */
    List<RecordedEvent> all() {
        received.drainTo(seen);
        return List.copyOf(seen);
    }

    private static List<String> names(List<RecordedEvent> events) {
        return events.stream().map(e -> e.getEventType().getName()).toList();
    }

    @Override
    public void close() {
        stream.close();
    }
}
