package dev.tether.leak;

import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.SettingControl;
import jdk.jfr.SettingDefinition;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * {@code dev.tether.CancelPropagation}: ending a context and everything registered below it took at least the
 * {@code propagationThreshold} setting (1 ms unless a recording asks otherwise). Recorded on the thread that ended
 * it, with its stack.
 *
 * <p>Why a setting of its own rather than JFR's {@code @Threshold}: JFR's threshold compares the event's own
 * duration, measured between {@code begin()} and {@code commit()}, but the propagation is timed inside
 * tether-core and reported afterwards ({@link dev.tether.spi.ContextObserver#contextEnded}), so this event's JFR
 * duration is zero and the measured time is its {@code propagation} field, which the setting filters on.
 */
@Name("dev.tether.CancelPropagation")
@Label("Cancel Propagation")
@Category({"Tether", "Context"})
@Description("Ending a context and its descendants took longer than the propagation threshold")
@StackTrace(true)
final class CancelPropagationEvent extends jdk.jfr.Event {

    @Label("Context")
    @Description("Identity of the context whose end propagated, as in the other Tether events")
    String contextId;

    @Label("Context Path")
    @Description("The context's lineage from its root, as Context.toString() prints it")
    String lineage;

    @Label("Descendants Ended")
    @Description("Contexts below this one that its end reached")
    int descendants;

    @Label("Propagation")
    @Description("Time it took to end the context and its registered descendants")
    @Timespan(Timespan.NANOSECONDS)
    long propagation;

    @Label("Ended By")
    @Description("cancelled or deadline_exceeded")
    String endedBy;

    @Name("propagationThreshold")
    @Label("Propagation Threshold")
    @Description("Record only propagations that took at least this long, for example 1 ms or 0 ns")
    @SettingDefinition
    boolean propagationThreshold(ThresholdControl control) {
        return propagation >= control.nanos;
    }

    /**
     * The {@code propagationThreshold} setting: a duration as JFR writes thresholds ("20 ms", "0 ns"). With
     * several recordings the smallest wins, as for JFR's own threshold, so each recording gets at least what it
     * asked for. Written by JFR under its settings lock, read by any thread that commits the event.
     */
    @Name("dev.tether.PropagationThreshold")
    @Label("Propagation Threshold")
    static final class ThresholdControl extends SettingControl {
        static final String DEFAULT = "1 ms";

        private volatile String text = DEFAULT;
        volatile long nanos = parse(DEFAULT);

        @Override
        public String combine(Set<String> values) {
            String best = null;
            long bestNanos = Long.MAX_VALUE;
            for (String value : values) {
                long n;
                try {
                    n = parse(value);
                } catch (IllegalArgumentException e) {
                    continue; // a recording's bad value does not spoil the others'
                }
                if (best == null || n < bestNanos) {
                    best = value;
                    bestNanos = n;
                }
            }
            return best == null ? DEFAULT : best;
        }

        @Override
        public void setValue(String value) {
            nanos = parse(value); // throws on a bad value: JFR logs it and keeps the previous one
            text = value;
        }

        @Override
        public String getValue() {
            return text;
        }

        /** Parses "12 ms", "5ns", "1 s", "0"; units ns, us, ms, s, m, h, d as in JFR's .jfc files. */
        static long parse(String value) {
            String s = value.strip().toLowerCase(Locale.ROOT);
            if (s.equals("0")) {
                return 0;
            }
            int split = 0;
            while (split < s.length() && Character.isDigit(s.charAt(split))) {
                split++;
            }
            if (split == 0 || split > 18) {
                throw new IllegalArgumentException("propagationThreshold: \"" + value + "\" (expected: a duration such as 1 ms)");
            }
            long amount = Long.parseLong(s.substring(0, split));
            Duration unit = switch (s.substring(split).strip()) {
                case "ns" -> Duration.ofNanos(1);
                case "us" -> Duration.ofNanos(1_000);
                case "ms" -> Duration.ofMillis(1);
                case "s" -> Duration.ofSeconds(1);
                case "m" -> Duration.ofMinutes(1);
                case "h" -> Duration.ofHours(1);
                case "d" -> Duration.ofDays(1);
                default -> throw new IllegalArgumentException(
                        "propagationThreshold: \"" + value + "\" (expected: a unit of ns, us, ms, s, m, h or d)");
            };
            try {
                return Math.multiplyExact(amount, unit.toNanos());
            } catch (ArithmeticException e) {
                return Long.MAX_VALUE; // longer than any propagation: records none
            }
        }
    }
}
