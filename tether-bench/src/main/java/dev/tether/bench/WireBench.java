package dev.tether.bench;

import dev.tether.CancellableContext;
import dev.tether.Context;
import dev.tether.wire.DeadlineOrigin;
import dev.tether.wire.GrpcTimeout;
import dev.tether.wire.InboundBudget;
import dev.tether.wire.InboundCall;
import dev.tether.wire.OutboundBudget;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What Tether's wire protocol costs per request without the network: the budget codec, reading a request's
 * headers into a budget, planning an outgoing call's headers, and a server call's whole lifecycle (context with
 * the budget's deadline and its origin, early-end watch, binding for the handler, completion). No peer does this
 * work; the loopback figures with and without Tether are in {@link WireLoopbackBench}.
 *
 * <p>Run: {@code tether-bench/run.sh --jmh WireBench -prof gc}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class WireBench {

    private Duration budget;
    private Function<String, String> headers;
    private InboundBudget inbound;
    private InboundBudget.Result result;
    private DeadlineOrigin self;
    private OutboundBudget outbound;
    private CancellableContext request;
    private Context withOrigin;

    @Setup
    public void setUp() {
        budget = Duration.ofMillis(250);
        Map<String, String> map = new HashMap<>();
        map.put("tether-budget", "250000u");
        map.put("tether-deadline-origin", "gateway/POST:/checkout");
        map.put("accept", "*/*");
        headers = map::get;
        inbound = InboundBudget.builder().maxBudget(Duration.ofSeconds(10)).reserve(Duration.ofMillis(20)).build();
        result = inbound.read(headers);
        self = new DeadlineOrigin("orders", "GET:/stock");
        outbound = OutboundBudget.builder().perHopReserve(Duration.ofMillis(10)).build();
        request = Context.background().withTimeout(Duration.ofHours(1));
        withOrigin = new DeadlineOrigin("gateway", "POST:/checkout").bindTo(request);
    }

    @TearDown
    public void tearDown() {
        request.cancel();
        if (Context.current() != Context.background()) {
            throw new AssertionError("a binding leaked out of its scope");
        }
    }

    /** One op: a budget written and read back in grpc-timeout syntax. */
    @Benchmark
    public Duration tether_formatParse() {
        return GrpcTimeout.parse(GrpcTimeout.format(budget));
    }

    /** One op: a request's tether-budget and origin read into the handler's budget (cap, reserve, origin). */
    @Benchmark
    public InboundBudget.Result tether_readInbound() {
        return inbound.read(headers);
    }

    /** One op: the headers for an outgoing call from a context with a deadline and a bound origin. */
    @Benchmark
    public OutboundBudget.Plan tether_planOutbound() {
        return outbound.plan(withOrigin);
    }

    /**
     * One op: a server request's lifecycle without I/O: start (context with the deadline, origin bound), early-end
     * watch (arms the deadline's timer), enter and leave the handler (binding, interrupt guard), complete (stops
     * the watch, cancels the context).
     */
    @Benchmark
    public boolean tether_serverCall() {
        InboundCall call = InboundCall.start(Context.background(), result, self);
        call.onEndedEarly(c -> {
            throw new AssertionError("a 10 s budget ran out in a benchmark");
        });
        try (InboundCall.Entered entered = call.enter()) {
            if (!entered.admitted()) {
                throw new AssertionError("not admitted");
            }
        }
        return call.complete();
    }
}
