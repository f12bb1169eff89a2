#!/usr/bin/env python3
"""Turns tether-bench's raw results into one Markdown table.

Reads JMH's JSON (-rf json), RetainedMemory's JSON and the Go program's JSON, all lists of results; prints the
table and its notes to stdout. With --strict (the smoke run) it fails when an expected cell is missing, when a
benchmark has no row here, or when a score is not a positive number, so that a benchmark cannot rot unseen.

Standard library only. Usage: table.py [--strict] [--no-go] [--quick-note TEXT] FILE.json...
"""

import argparse
import json
import math
import sys

# Columns after "operation", in order. "grpcOtel" (a composition) is shown in the OTel column with a note.
COLUMNS = [
    ("tether", "Tether"),
    ("grpc", "gRPC Context"),
    ("otel", "OTel Context"),
    ("threadLocal", "ThreadLocal"),
    ("scopedValue", "ScopedValue"),
    ("go", "Go context"),
]
JAVA_PEERS = ["grpc", "otel", "grpcOtel", "threadLocal", "scopedValue", "jdk", "jdkThread"]
# Peers shown in another peer's column, under it, each with a note saying what it is.
SHOWN_WITH = {"otel": ["grpcOtel"], "jdk": ["jdkThread"]}
# The structured-concurrency table: Tether against the JDK's own primitives doing the same work.
JDK_COLUMNS = [
    ("tether", "Tether"),
    ("jdk", "JDK"),
]


class Row:
    """One line of the table (one per parameter value): which results feed it and what its cells mean."""

    def __init__(self, key, label, peers, notes=None, per=None, bytes_shown=True, bytes_per=None):
        self.key = key              # JMH Class.variant (the method is peer_variant) or the Go/memory key
        self.label = label          # str.format'ed with the parameters, numbers as 1k/100k
        self.peers = peers          # peers that must have a result (go is dropped with --no-go)
        self.notes = notes or {}    # peer -> why its cell is empty, or what its figure is
        self.per = per              # parameter to divide the score by (score is per tree, shown per child)
        self.bytes_shown = bytes_shown
        self.bytes_per = bytes_per  # parameter to divide B/op by (shown per child)
        if "otel" not in peers and "grpcOtel" not in peers:
            self.notes.setdefault("otel", NO_CANCEL)


NO_CANCEL = "OpenTelemetry's Context has no cancellation or deadline."
GO_DONE = "The Go children have their Done() channel made (what a waiter uses) instead of a listener."
LAZY = ("gRPC links a child into its parent only when the child gets a listener; a plain child is never "
        "notified and finds out on its next isCancelled(), so there is no fan-out to time.")

ROWS = [
    Row("RequestBench.request", "**realistic request**: deadline + 3 values + cancel, 50 done checks, "
        "20 lookups, cancel",
        ["tether", "grpc", "grpcOtel", "go"],
        {"grpcOtel": "OTel column of the request row: gRPC deadline and cancellation, values in an OTel Context."}),
    Row("WithCancelBench.ofRoot", "withCancel + cancel, child of the root", ["tether", "grpc", "go"],
        {"otel": NO_CANCEL}),
    Row("WithCancelBench.ofCancellable", "withCancel + cancel, child of a live cancellable parent",
        ["tether", "grpc", "go"],
        {"grpc": "gRPC does not link a child without listeners into its parent (see the fan-out rows)."}),
    Row("WithCancelBench.withListener", "same, child of the root, with one done-listener run on cancel",
        ["tether", "grpc", "go"],
        {"go": "Go 1.19 has no AfterFunc: the Go listener is a goroutine waiting on Done()."}),
    Row("WithTimeoutBench.oneHour", "withTimeout(1 h) + cancel", ["tether", "grpc", "go"]),
    Row("FanOutBench.listeners", "cancel fan-out, per child: {fanOut} children with one listener each",
        ["tether", "grpc", "go"], {"go": GO_DONE},
        per="fanOut", bytes_shown=False),
    Row("FanOutBench.plain", "cancel fan-out, per child: {fanOut} plain children", ["tether", "go"],
        {"grpc": LAZY}, per="fanOut", bytes_shown=False),
    Row("ValueBench.lookup", "value lookup at depth {depth} (the key bound first)", ["tether", "grpc", "otel", "go"]),
    Row("ValueBench.add", "withValue at depth {depth} (one more value on a chain of {depth})",
        ["tether", "grpc", "otel", "go"]),
    Row("AttachBench.attach", "attach + current() + detach", ["tether", "grpc", "otel", "threadLocal",
                                                              "scopedValue"],
        {"go": "Go has no current context."}),
    Row("IsDoneBench.check", "is-done check, live context at depth {depth}", ["tether", "grpc", "go"]),
    Row("ManyChildrenBench.each", "{children} children of one live parent, each with a listener, each "
        "cancelled on its own (whole run; B per child)", ["tether", "grpc", "go"], {"go": GO_DONE},
        bytes_per="children"),
    Row("ContentionBench.twoThreads", "two threads: withCancel + cancel on one shared parent (per thread)",
        ["tether", "grpc", "go"]),
    Row("GrpcInterceptorBench.unary", "in-process unary gRPC call (direct executors), live request context (deadline in 1 h): "
        "with tether-grpc's client and server interceptors", ["tether", "grpc"],
        {"grpc": "gRPC: the same call without the interceptors, with a 10 s deadline of its own.",
         "otel": "No OpenTelemetry figure: this row is a gRPC call.", "go": "The Go program makes no gRPC calls."}),
    Row("RetainedMemory.withCancel", "memory retained per live withCancel child of a live parent",
        ["tether", "grpc", "go"]),
    Row("RetainedMemory.withTimeout", "memory retained per live withTimeout(1 h) child",
        ["tether", "grpc", "go"]),
    Row("RetainedMemory.withValue", "memory retained per withValue on a context holding 3 values",
        ["tether", "grpc", "otel", "go"]),
    Row("RetainedMemory.afterCancelledChildren", "memory a live parent keeps per child after its children "
        "(with listeners) were cancelled", ["tether", "grpc", "go"]),
]

VT_EXECUTOR = "JDK: Executors.newVirtualThreadPerTaskExecutor() (long-lived): submit + Future.get per task."
VT_THREAD = "JDK, second figure: Thread.ofVirtual().start(task) + join per task."
NOT_WAITING = ("Nothing waits: what is waited for is there already, so Tether's figure minus the JDK's is the "
               "interruption wiring (done check, onDone registration, interrupt guard, and their removal).")

# Forks and waits (TaskGroupBench, InterruptWiringBench). No Go figures: the Go program has no counterpart yet.
JDK_ROWS = [
    Row("TaskGroupBench.fork1", "TaskGroup open + fork one no-op task (virtual thread) + join + close",
        ["tether", "jdk", "jdkThread"], {"jdk": VT_EXECUTOR, "jdkThread": VT_THREAD}),
    Row("TaskGroupBench.fork10", "TaskGroup open + fork 10 no-op tasks + join + close (per group)",
        ["tether", "jdk", "jdkThread"], {"jdk": VT_EXECUTOR, "jdkThread": VT_THREAD}),
    Row("InterruptWiringBench.awaitCompleted", "Blocking.await(ctx, f) of a completed CompletableFuture",
        ["tether", "jdk"], {"tether": NOT_WAITING, "jdk": "JDK: f.get()."}),
    Row("InterruptWiringBench.takeReady", "Blocking.take(ctx, q) from a queue holding an element (+ offer back)",
        ["tether", "jdk"], {"tether": NOT_WAITING, "jdk": "JDK: q.take() (+ offer back), ArrayBlockingQueue."}),
    Row("InterruptWiringBench.sleepZero", "Blocking.sleep(ctx, Duration.ZERO)", ["tether", "jdk"],
        {"jdk": "JDK: Thread.sleep(Duration.ZERO) on a platform thread, which may yield the CPU."}),
    Row("InterruptWiringBench.cancellingSubmit", "ContextExecutors.cancelling(direct).submit(no-op).get(), "
        "live context current", ["tether", "jdk"],
        {"jdk": "JDK: the same direct ExecutorService (runs on the caller) without cancelling(): FutureTask."}),
]

# Leak detection's cost (LeakTrackingBench): the same operation with no detector and a detector at each level.
LEAK_COLUMNS = [
    ("none", "no detector"),
    ("off", "OFF"),
    ("sampled", "SAMPLED (default)"),
    ("full", "FULL"),
]
LEAK_LEVELS = ["none", "off", "sampled", "full"]
LEAK_ROWS = [
    Row("LeakTrackingBench.run", "ctx.run(empty task): the task hooks alone", LEAK_LEVELS),
    Row("LeakTrackingBench.fork", "TaskGroup open + fork an empty task (virtual thread) + join + close",
        LEAK_LEVELS),
    Row("LeakTrackingBench.context", "withCancel + cancel, child of a live request: the context hooks alone",
        LEAK_LEVELS),
]


class Ratio:
    """What a table's last two columns compare: a subject peer against the best of its baselines."""

    def __init__(self, subject, baselines, header, bytes_header):
        self.subject = subject
        self.baselines = baselines
        self.header = header
        self.bytes_header = bytes_header


PEER_RATIO = Ratio("tether", JAVA_PEERS, "Tether ÷ best peer", "B/op: Tether / best peer")
LEAK_RATIO = Ratio("sampled", ["none"], "SAMPLED ÷ no detector", "B/op: SAMPLED / no detector")

# Across the wire (WireBench, WireLoopbackBench): the same work with and without Tether. Shares the JDK table's
# columns: "jdk" is the bare JDK client / bare Jetty handler.
NO_PEER = "Nothing without Tether does this work."
WIRE_ROWS = [
    Row("WireBench.formatParse", "GrpcTimeout.format + parse of a 250 ms budget", ["tether"], {"jdk": NO_PEER}),
    Row("WireBench.readInbound", "InboundBudget.read: tether-budget + origin from a request's headers",
        ["tether"], {"jdk": NO_PEER}),
    Row("WireBench.planOutbound", "OutboundBudget.plan: remaining budget less reserve, 3 headers", ["tether"],
        {"jdk": NO_PEER}),
    Row("WireBench.serverCall", "InboundCall start + early-end watch + enter/leave + complete (no I/O)",
        ["tether"], {"jdk": NO_PEER}),
    Row("WireLoopbackBench.request", "HTTP/1.1 GET over loopback, JDK client to Jetty 12: through TetherHandler",
        ["tether", "jdk"], {"jdk": "The same handler without TetherHandler, sent the same headers."}),
    Row("WireLoopbackBench.client", "HTTP/1.1 GET over loopback to a bare Jetty handler: TetherHttpClient",
        ["tether", "jdk"], {"jdk": "HttpClient.send directly."}),
]

JDBC_PLAIN = "Plain: the H2 DataSource's own statement, with the same context attached (which it ignores)."
# tether-jdbc (JdbcBench): a prepared SELECT 1 on in-memory H2, through TetherDataSource against the plain one.
JDBC_ROWS = [
    Row("JdbcBench.noContext", "executeQuery + next, no context current", ["tether", "jdk"], {"jdk": JDBC_PLAIN}),
    Row("JdbcBench.cancellable", "executeQuery + next, live withCancel() context attached", ["tether", "jdk"],
        {"jdk": JDBC_PLAIN}),
    Row("JdbcBench.deadline", "executeQuery + next, live context with a 1 h deadline attached", ["tether", "jdk"],
        {"jdk": JDBC_PLAIN, "tether": "Includes setting and restoring the query timeout: H2 runs a SET "
                                      "QUERY_TIMEOUT command for each."}),
]

# tether-otel (OtelBench): Tether's span recording over a plain recording SDK span, and the hand-off bridge.
SPAN_BASE = "The plain span start + end these rows add to: see the first row."
OTEL_ROWS = [
    Row("OtelBench.spanStartEnd", "start + end a recording SDK span (the baseline)", ["otel"],
        {"tether": "The rows below add Tether's work to this span."}),
    Row("OtelBench.recordCancellation", "span start + TetherSpans.recordCancellation + end", ["tether"],
        {"otel": SPAN_BASE}),
    Row("OtelBench.bindAndClose", "span start + TetherSpans.bind + binding close + end", ["tether"],
        {"otel": SPAN_BASE}),
    Row("OtelBench.processor", "span start + end with TetherSpanProcessor binding it", ["tether"],
        {"otel": SPAN_BASE}),
    Row("OtelBench.handOff", "hand-off with a span current: ctx.wrap(task).run() (bridge installed: {bridge})",
        ["tether", "otel"], {"otel": "OTel: Context.current().wrap(task).run()."}),
]

# Each table: its heading (None for the first), its columns, its rows and its ratio.
TABLES = [
    (None, COLUMNS, ROWS, PEER_RATIO),
    ("Structured concurrency and interruption wiring: Tether against the JDK doing the same work", JDK_COLUMNS,
     JDK_ROWS, PEER_RATIO),
    ("Across the wire: per-request cost of the codec, the server handler and the client", JDK_COLUMNS, WIRE_ROWS,
     PEER_RATIO),
    ("tether-otel: recording cancellations on spans, and the hand-off bridge", [("tether", "Tether"), ("otel", "OTel")],
     OTEL_ROWS, PEER_RATIO),
    ("Leak detection: the same operation with no detector and with one at each level", LEAK_COLUMNS, LEAK_ROWS,
     LEAK_RATIO),
    ("tether-jdbc: one statement on in-memory H2, through TetherDataSource against the plain DataSource",
     [("tether", "Tether"), ("jdk", "Plain")], JDBC_ROWS, PEER_RATIO),
]


def short(n):
    """1000 -> 1k, 100000 -> 100k: parameters as the table shows them."""
    try:
        v = int(n)
    except ValueError:
        return n
    if v >= 1_000_000 and v % 1_000_000 == 0:
        return f"{v // 1_000_000}M"
    if v >= 1000 and v % 1000 == 0:
        return f"{v // 1000}k"
    return str(v)


def load(paths):
    """Results as dicts {key, peer, params, score, error, unit, bytes}."""
    out = []
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        for r in data:
            if "benchmark" in r:  # JMH
                cls, method = r["benchmark"].split(".")[-2:]
                peer, _, variant = method.partition("_")
                pm = r["primaryMetric"]
                bytes_ = None
                for name, m in (r.get("secondaryMetrics") or {}).items():
                    if name.lstrip("\u00b7") == "gc.alloc.rate.norm":
                        bytes_ = m["score"]
                out.append(dict(key=f"{cls}.{variant}", peer=peer, params=r.get("params") or {},
                                score=pm["score"], error=pm.get("scoreError"), unit=pm["scoreUnit"], bytes=bytes_,
                                source=path))
            else:  # Go program and RetainedMemory
                out.append(dict(key=r["key"], peer=r["peer"], params=r.get("params") or {}, score=r["score"],
                                error=None, unit=r["unit"], bytes=r.get("bytesPerOp"), source=path))
    return out


def nanos(value, unit):
    scale = {"ns/op": 1, "us/op": 1e3, "ms/op": 1e6, "s/op": 1e9}[unit]
    return value * scale


def fmt_time(ns):
    for limit, div, suffix in ((1e3, 1, "ns"), (1e6, 1e3, "µs"), (1e9, 1e6, "ms"), (math.inf, 1e9, "s")):
        if abs(ns) < limit:
            v = ns / div
            return (f"{v:.3g}" if v < 100 else f"{v:.0f}") + " " + suffix
    return str(ns)


def fmt_bytes(b):
    if b is None:
        return None
    if abs(b) < 0.5:
        return "0 B"
    if abs(b) >= 10_000:
        return f"{b / 1024:.0f} KiB"
    return f"{b:.0f} B"


def fmt_ratio(r):
    """Tether over the best peer; bold when Tether is behind (the target is <= 1.0)."""
    if not math.isfinite(r):
        return "**∞**"
    text = f"{r:.2f}×" if r >= 0.095 else f"{r:.2g}×"
    return f"**{text}**" if r > 1.0 else text


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--strict", action="store_true", help="fail on a missing cell, an unknown benchmark or a bad score")
    ap.add_argument("--no-go", action="store_true", help="Go was not run: do not expect its cells")
    ap.add_argument("--title", default="")
    args = ap.parse_args()

    results = load(args.files)
    problems = []
    known = {row.key for _, _, rows, _ in TABLES for row in rows}
    for r in results:
        if r["key"] not in known:
            problems.append(f"{r['key']} ({r['peer']}, {r['source']}) has no row in table.py")
        if not (isinstance(r["score"], (int, float)) and math.isfinite(r["score"]) and r["score"] >= 0):
            problems.append(f"{r['key']} ({r['peer']}): bad score {r['score']!r}")

    notes = []  # footnote texts, numbered in order of first use

    def note(text):
        if text not in notes:
            notes.append(text)
        return "<sup>" + str(notes.index(text) + 1) + "</sup>"

    def render_rows(columns, rows, compare):
        """Appends a line to `lines` per row and parameter combination."""
        for row in rows:
            mine = [r for r in results if r["key"] == row.key]
            combos = sorted({tuple(sorted(r["params"].items())) for r in mine},
                            key=lambda c: [float(v) if v.replace(".", "").isdigit() else v for _, v in c])
            expected = [p for p in row.peers if not (p == "go" and args.no_go)]
            if not combos:
                if args.strict or not args.files:
                    problems.append(f"{row.key}: no results at all")
                continue
            for combo in combos:
                params = dict(combo)
                cells = {r["peer"]: r for r in mine if r["params"] == params}
                for p in expected:
                    if p not in cells:
                        problems.append(f"{row.key} {params}: no result for {p}")
                label = row.label.format(**{k: short(v) for k, v in params.items()})
                is_memory = row.key.startswith("RetainedMemory.")

                def value(r):
                    """Comparable figure of a cell: nanoseconds per op (per child where the row says), or bytes."""
                    if is_memory:
                        return r["score"]
                    v = nanos(r["score"], r["unit"])
                    if row.per:
                        v /= float(params[row.per])
                    return v

                def bytes_of(r):
                    if is_memory or not row.bytes_shown or r["bytes"] is None:
                        return None
                    b = r["bytes"]
                    if row.per:
                        b /= float(params[row.per])
                    if row.bytes_per:
                        b /= float(params[row.bytes_per])
                    return b

                def render(r, peer):
                    text = fmt_bytes(r["score"]) if is_memory else fmt_time(value(r))
                    if not is_memory and r["error"] not in (None, "NaN") and r["score"] > 0:
                        rel = r["error"] / r["score"]
                        if math.isfinite(rel) and rel > 0.10:
                            text += f" ±{rel * 100:.0f}%"
                    b = fmt_bytes(bytes_of(r))
                    if b is not None:
                        text += " · " + b
                    if peer in row.notes:
                        text += note(row.notes[peer])
                    return text

                out = [label]
                for peer, _ in columns:
                    shown = []
                    for p in [peer] + SHOWN_WITH.get(peer, []):
                        if p in cells:
                            shown.append(render(cells[p], p))
                    if shown:
                        out.append("<br>".join(shown))
                    elif peer in row.notes:
                        out.append("—" + note(row.notes[peer]))
                    else:
                        out.append("—")

                tether = cells.get(compare.subject)
                peers = [cells[p] for p in compare.baselines if p in cells]
                if tether and peers:
                    best = min(peers, key=value)
                    ratio = value(tether) / value(best) if value(best) > 0 else math.inf
                    out.append(fmt_ratio(ratio))
                elif tether and "go" in cells and value(cells["go"]) > 0:
                    out.append(fmt_ratio(value(tether) / value(cells["go"])) + " (vs Go)")
                else:
                    out.append("—")
                tb = bytes_of(tether) if tether else None
                pb = [bytes_of(p) for p in peers if bytes_of(p) is not None]
                if is_memory and tether and peers:
                    out.append(f"{fmt_bytes(tether['score'])} / {fmt_bytes(min(p['score'] for p in peers))}")
                elif tb is not None and pb:
                    out.append(f"{fmt_bytes(tb)} / {fmt_bytes(min(pb))}")
                else:
                    out.append("—")
                lines.append("| " + " | ".join(out) + " |")

    lines = []
    for heading, columns, rows, compare in TABLES:
        if not any(r["key"] == row.key for r in results for row in rows) and not args.strict:
            continue  # a filtered run (run.sh --quick SomeBench) prints only the tables it has results for
        if heading:
            lines += ([""] if lines else []) + [heading, ""]
        header = ["operation"] + [name for _, name in columns] + [compare.header, compare.bytes_header]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        render_rows(columns, rows, compare)

    if args.title:
        print(args.title)
        print()
    print("\n".join(lines))
    print()
    print("Each cell: time per operation (per child in the fan-out rows; ± where JMH's 99.9% error exceeds 10%) "
          "· bytes allocated per operation (JMH -prof gc, Go's AllocedBytesPerOp); memory rows: bytes retained. "
          "Ratios are against the best Java peer in the row (lower is better for Tether; bold where Tether is behind); "
          "in the leak detection table, SAMPLED against no detector.")
    print()
    for i, text in enumerate(notes, 1):
        print(f"{i}. {text}")
    if problems:
        print(file=sys.stderr)
        for p in problems:
            print("table.py: " + p, file=sys.stderr)
        if args.strict:
            sys.exit(1)


if __name__ == "__main__":
    main()
