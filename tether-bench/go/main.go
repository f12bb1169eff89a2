// Command bench measures Go's context package on the rows of tether-bench's table, so that every run of
// tether-bench/run.sh prints Go's figures from the same machine next to Tether's.
//
// It uses only the standard library (testing.Benchmark for timing and allocations, runtime.ReadMemStats for
// retained heap) and writes one JSON list whose keys match the JMH benchmarks' (Class.variant). Each benchmark
// function says in its comment what it measures.
//
// Run: go run . -benchtime 1s -children 100000 -out go.json   (tether-bench/run.sh does this)
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

type result struct {
	Key        string            `json:"key"`
	Peer       string            `json:"peer"`
	Params     map[string]string `json:"params"`
	Score      float64           `json:"score"`
	Unit       string            `json:"unit"`
	BytesPerOp *float64          `json:"bytesPerOp,omitempty"`
}

type key int

var (
	sinkCtx  context.Context
	sinkErr  error
	sinkAny  interface{}
	sinkBool bool
)

// withCancelOfRoot: a child of Background, created and cancelled.
func withCancelOfRoot(b *testing.B) {
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		sinkCtx = ctx
	}
}

// withCancelOfCancellable: a child of a live cancellable parent (linked into it), created and cancelled.
func withCancelOfCancellable(b *testing.B) {
	parent, stop := context.WithCancel(context.Background())
	defer stop()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithCancel(parent)
		cancel()
		sinkCtx = ctx
	}
}

// withCancelWithListener: a child of Background with one waiter, created and cancelled, and the waiter has run.
// Go 1.19 has no context.AfterFunc (added in 1.21), so the listener is a goroutine blocked on Done().
func withCancelWithListener(b *testing.B) {
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		ran := make(chan struct{})
		go func() {
			<-ctx.Done()
			close(ran)
		}()
		cancel()
		<-ran
		sinkCtx = ctx
	}
}

// withTimeoutOneHour: WithTimeout(Background, 1h) (arms a runtime timer), then cancel (stops it).
func withTimeoutOneHour(b *testing.B) {
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		cancel()
		sinkCtx = ctx
	}
}

// fanOut: cancel a parent with n live children; with waiters, each child's Done() channel exists and is closed
// (what a goroutine waiting on it would see). The tree is built with the timer stopped; the score is per tree.
func fanOut(n int, waiters bool) func(b *testing.B) {
	return func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			parent, cancel := context.WithCancel(context.Background())
			var last context.Context
			cancels := make([]context.CancelFunc, n) // kept to satisfy go vet; the parent's cancel ends them
			for j := 0; j < n; j++ {
				last, cancels[j] = context.WithCancel(parent)
				if waiters {
					last.Done()
				}
			}
			b.StartTimer()
			cancel()
			b.StopTimer()
			if last.Err() == nil || len(cancels) != n {
				panic("a child outlived its parent")
			}
			b.StartTimer()
		}
	}
}

func valueChain(depth int) context.Context {
	ctx := context.Background()
	for i := 0; i < depth; i++ {
		ctx = context.WithValue(ctx, key(i), "v"+strconv.Itoa(i))
	}
	return ctx
}

// valueLookup: Value() of the key bound first, from the leaf of a chain of depth WithValue contexts.
func valueLookup(depth int) func(b *testing.B) {
	return func(b *testing.B) {
		leaf := valueChain(depth)
		var k interface{} = key(0)
		if leaf.Value(k) != "v0" {
			panic("lookup does not find the first value")
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			sinkAny = leaf.Value(k)
		}
	}
}

// valueAdd: WithValue of one more key on the leaf of a chain of depth WithValue contexts.
func valueAdd(depth int) func(b *testing.B) {
	return func(b *testing.B) {
		leaf := valueChain(depth)
		var k interface{} = key(-1)
		var v interface{} = "extra"
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			sinkCtx = context.WithValue(leaf, k, v)
		}
	}
}

// isDone: ctx.Err() != nil on the leaf of a live chain of depth WithCancel contexts.
func isDone(depth int) func(b *testing.B) {
	return func(b *testing.B) {
		ctx := context.Background()
		var cancels []context.CancelFunc
		for i := 0; i < depth; i++ {
			var cancel context.CancelFunc
			ctx, cancel = context.WithCancel(ctx)
			cancels = append(cancels, cancel)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			sinkBool = ctx.Err() != nil
		}
		b.StopTimer()
		if sinkBool {
			panic("the chain ended during the benchmark")
		}
		cancels[0]()
	}
}

// manyChildren: n times, a child of one live parent, its Done() channel made (as a waiter would), cancelled on its
// own. The score is for all n.
func manyChildren(n int) func(b *testing.B) {
	return func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			parent, stop := context.WithCancel(context.Background())
			b.StartTimer()
			for j := 0; j < n; j++ {
				ctx, cancel := context.WithCancel(parent)
				ctx.Done()
				cancel()
				sinkCtx = ctx
			}
			b.StopTimer()
			stop()
			b.StartTimer()
		}
	}
}

// contention: two goroutines each run b.N times WithCancel(shared live parent) + cancel. Like JMH's average time
// with two threads, the score is the time per operation on each goroutine (wall time / b.N), not wall / (2 b.N).
func contention(b *testing.B) {
	parent, stop := context.WithCancel(context.Background())
	defer stop()
	var wg sync.WaitGroup
	var start sync.WaitGroup
	start.Add(1)
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			var last context.Context
			for i := 0; i < b.N; i++ {
				ctx, cancel := context.WithCancel(parent)
				cancel()
				last = ctx
			}
			sinkAny = last
		}()
	}
	b.ResetTimer()
	start.Done()
	wg.Wait()
}

// request: WithTimeout(10s), 3× WithValue, WithCancel, 50× Err(), 20× Value(), cancel both.
func request(b *testing.B) {
	keys := []interface{}{key(1), key(2), key(3)}
	var user, tenant, traceID interface{} = "alice", "acme", "4bf92f3577b34da6a3ce929d0e0e4736"
	for i := 0; i < b.N; i++ {
		req, cancelReq := context.WithTimeout(context.Background(), 10*time.Second)
		values := context.WithValue(context.WithValue(context.WithValue(req, keys[0], user), keys[1], tenant),
			keys[2], traceID)
		call, cancelCall := context.WithCancel(values)
		for j := 0; j < 50; j++ {
			sinkErr = call.Err()
		}
		for j := 0; j < 20; j++ {
			sinkAny = call.Value(keys[j%3])
		}
		cancelCall()
		cancelReq()
	}
}

func heapAfterGC() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func median(xs []float64) float64 {
	sort.Float64s(xs)
	return xs[len(xs)/2]
}

// retained: heap bytes retained per context made by mk, with n of them (and their cancel funcs) held.
func retained(n int, mk func() (context.Context, context.CancelFunc)) float64 {
	var rounds []float64
	for round := -1; round < 5; round++ {
		ctxs := make([]context.Context, n)
		cancels := make([]context.CancelFunc, n)
		before := heapAfterGC()
		for i := 0; i < n; i++ {
			ctxs[i], cancels[i] = mk()
		}
		after := heapAfterGC()
		if round >= 0 {
			rounds = append(rounds, (float64(after)-float64(before))/float64(n))
		}
		for _, c := range cancels {
			if c != nil {
				c()
			}
		}
		runtime.KeepAlive(ctxs)
	}
	return median(rounds)
}

// retainedAfterChildren: heap a live parent still holds per child after n children (each with its Done()
// channel made) were cancelled one by one.
func retainedAfterChildren(n int) float64 {
	var rounds []float64
	for round := -1; round < 5; round++ {
		parent, stop := context.WithCancel(context.Background())
		before := heapAfterGC()
		for i := 0; i < n; i++ {
			ctx, cancel := context.WithCancel(parent)
			ctx.Done()
			cancel()
		}
		after := heapAfterGC()
		if round >= 0 {
			rounds = append(rounds, (float64(after)-float64(before))/float64(n))
		}
		stop()
		runtime.KeepAlive(parent)
	}
	return median(rounds)
}

func main() {
	testing.Init()
	benchtime := flag.String("benchtime", "1s", "time (or Nx iterations) per benchmark, as go test -benchtime")
	children := flag.Int("children", 100000, "children in the ManyChildren row")
	memCount := flag.Int("memcount", 100000, "contexts per retained-memory measurement")
	count := flag.Int("count", 1, "runs per benchmark; the median is reported")
	out := flag.String("out", "", "file to write the JSON results to (default stdout)")
	flag.Parse()
	if err := flag.Set("test.benchtime", *benchtime); err != nil {
		fmt.Fprintln(os.Stderr, "bad -benchtime:", err)
		os.Exit(2)
	}

	var results []result
	// add runs f -count times and records the median time per op; bytesPer divides the allocations (the
	// contention benchmark allocates on two goroutines per b.N, and JMH reports bytes per op over all threads).
	add := func(k string, params map[string]string, unit string, bytesPer float64, f func(b *testing.B)) {
		var times, allocs []float64
		for c := 0; c < *count; c++ {
			r := testing.Benchmark(f)
			if r.N == 0 {
				fmt.Fprintln(os.Stderr, "benchmark failed:", k, params)
				os.Exit(1)
			}
			times = append(times, float64(r.T.Nanoseconds())/float64(r.N))
			allocs = append(allocs, float64(r.MemBytes)/float64(r.N)/bytesPer)
		}
		ns := median(times)
		bytes := median(allocs)
		score := ns
		if unit == "ms/op" {
			score = ns / 1e6
		}
		if params == nil {
			params = map[string]string{}
		}
		results = append(results, result{Key: k, Peer: "go", Params: params, Score: score, Unit: unit, BytesPerOp: &bytes})
		label := k
		for name, v := range params {
			label += " " + name + "=" + v
		}
		fmt.Fprintf(os.Stderr, "%-44s %14.2f %s %10.1f B/op\n", label, score, unit, bytes)
	}
	p := func(name string, v int) map[string]string { return map[string]string{name: strconv.Itoa(v)} }

	add("WithCancelBench.ofRoot", nil, "ns/op", 1, withCancelOfRoot)
	add("WithCancelBench.ofCancellable", nil, "ns/op", 1, withCancelOfCancellable)
	add("WithCancelBench.withListener", nil, "ns/op", 1, withCancelWithListener)
	add("WithTimeoutBench.oneHour", nil, "ns/op", 1, withTimeoutOneHour)
	for _, n := range []int{1000, 100000} {
		add("FanOutBench.listeners", p("fanOut", n), "ns/op", 1, fanOut(n, true))
		add("FanOutBench.plain", p("fanOut", n), "ns/op", 1, fanOut(n, false))
	}
	for _, d := range []int{1, 10, 100} {
		add("ValueBench.lookup", p("depth", d), "ns/op", 1, valueLookup(d))
		add("ValueBench.add", p("depth", d), "ns/op", 1, valueAdd(d))
		add("IsDoneBench.check", p("depth", d), "ns/op", 1, isDone(d))
	}
	add("ManyChildrenBench.each", p("children", *children), "ms/op", 1, manyChildren(*children))
	add("ContentionBench.twoThreads", nil, "ns/op", 2, contention)
	add("RequestBench.request", nil, "ns/op", 1, request)

	n := *memCount
	mem := func(k string, bytes float64) {
		results = append(results, result{Key: k, Peer: "go", Params: map[string]string{}, Score: bytes, Unit: "B"})
		fmt.Fprintf(os.Stderr, "%-44s %14.1f B retained\n", k, bytes)
	}
	parent, stop := context.WithCancel(context.Background())
	mem("RetainedMemory.withCancel", retained(n, func() (context.Context, context.CancelFunc) {
		return context.WithCancel(parent)
	}))
	stop()
	mem("RetainedMemory.withTimeout", retained(n, func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), time.Hour)
	}))
	base := valueChain(3)
	var k, v interface{} = key(-1), "extra"
	mem("RetainedMemory.withValue", retained(n, func() (context.Context, context.CancelFunc) {
		return context.WithValue(base, k, v), nil
	}))
	// A tenth of the count: this row is linear per child, and a peer whose parent keeps every child slows down
	// with the square of the count (see the Java side).
	mem("RetainedMemory.afterCancelledChildren", retainedAfterChildren(n/10))

	data, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		panic(err)
	}
	if *out == "" {
		os.Stdout.Write(append(data, '\n'))
	} else if err := os.WriteFile(*out, append(data, '\n'), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
