package graph

// BenchmarkHostileGraphQL sends issue 12's hostile documents, once each,
// to a stock gqlgen server ("before": handler.New(NewExecutableSchema(...))
// with gqlgen's default transports, query cache, introspection and APQ, no
// limits) and to Satchel's NewHandler with its default Config ("after"),
// both over the same SQLite database of 1000 files. It reports, per
// document and side, the answer, the process CPU time, the bytes allocated
// and the peak of the live heap, side by side with the ratios, and writes
// the table to bench/RESULTS-graphql.md. Run it with `make bench-graphql`:
//
//	SATCHEL_BENCH_GRAPHQL=1 go test -run '^$' -bench '^BenchmarkHostileGraphQL$' -benchtime 1x -timeout 30m ./graph/
//
// -benchtime 1x: "before" takes seconds and gigabytes on some documents.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	gqltransport "github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"satchel/graph/transport"
)

// hostileDoc is one document of the benchmark.
type hostileDoc struct {
	name   string
	note   string
	query  string
	secret bool // sent with a secret key (else with none)
	// within: a document the limits let through, measured after only, to
	// show what the worst of them costs.
	within bool
}

func hostileDocs() []hostileDoc {
	repeat := func(n int, format string) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			b.WriteString(" ")
			if strings.Contains(format, "%d") {
				fmt.Fprintf(&b, format, i)
			} else {
				b.WriteString(format)
			}
		}
		b.WriteString(" }")
		return b.String()
	}
	return []hostileDoc{
		{name: "10,000 __typename", note: "no key; 107 KB",
			query: repeat(10_000, "__typename")},
		{name: "4,000 __typename", note: "no key; 43 KB, within the size limit",
			query: repeat(4_000, "__typename")},
		{name: "2,000 same-alias fields, conflicting arguments", note: "secret key",
			query: repeat(2_000, "a: files(first: %d) { pageInfo { hasNextPage } }"), secret: true},
		{name: "1,000 aliases of files(first: 1000)", note: "secret key; 1000 files",
			query: repeat(1_000, "f%d: files(first: 1000) { edges { node { id } } }"), secret: true},
		{name: "fragment chain, 2^20 spreads", note: "no key; scaled down from the 2^40 of 2.4 KB that before would never finish",
			query: "{ __type(name: \"Query\") { ...F0 } }\n" + fragmentChain(20, "__Type", "ofType")},
		{name: "200 aliases of __schema", note: "no key; introspection only",
			query: repeat(200, "s%d: __schema { types { fields { args { name } } } }")},
		{name: "100 aliases of files(first: 1000)", note: "secret key; 1000 files; over the complexity limit",
			query: repeat(100, "f%d: files(first: 1000) { edges { node { id } } }"), secret: true},

		{name: "141 __typename", note: "no key; 9,870 field pairs", within: true,
			query: repeat(141, "__typename")},
		{name: "100 fragments, one alias, conflicting arguments", note: "no key; 9,900 field pairs", within: true,
			query: repeat(100, "...F%d") + "\n" + repeatf(100, "fragment F%d on Query { a: __type(name: \"T%d\") { name } }\n")},
		{name: "400 aliases of __type", note: "no key; 4,800 fields, costs 7,200", within: true,
			query: repeat(400, `t%d: __type(name: "File") { name kind description fields { name } interfaces { name } ofType { name } possibleTypes { name } }`)},
		{name: "GraphiQL introspection", note: "no key; costs 2,947", within: true,
			query: graphiQLIntrospection},
		{name: "a page of 1000 files, every field", note: "secret key; costs 26,001", within: true, secret: true,
			query: `{ files(first: 1000) { edges { cursor node { id accountId name mime size tags { name searchable } uploadedAt url sha256 transformation(name: "thumb") { name url status width height size mime } } } pageInfo { hasNextPage endCursor } } }`},
	}
}

// fragmentChain is n fragments each spreading the next twice: 2^n fields
// once expanded, in a document of a few hundred bytes.
func fragmentChain(n int, typ, field string) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "fragment F%d on %s { %s { ...F%d } again: %s { ...F%d } }\n", i, typ, field, i+1, field, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on %s { name }\n", n, typ)
	return b.String()
}

// repeatf is n copies of format, each given its index (as often as format
// has verbs).
func repeatf(n int, format string) string {
	var b strings.Builder
	for i := range n {
		args := make([]any, strings.Count(format, "%d"))
		for j := range args {
			args[j] = i
		}
		fmt.Fprintf(&b, format, args...)
	}
	return b.String()
}

// graphiQLIntrospection is testdata/introspection.graphql, once read.
var graphiQLIntrospection string

// stockServer is gqlgen's NewDefaultServer (deprecated, so spelled out)
// without its websocket transport, over the same resolvers.
func stockServer(g *testGraph, r *Resolver) http.Handler {
	srv := handler.New(NewExecutableSchema(Config{Resolvers: r}))
	srv.AddTransport(gqltransport.Options{})
	srv.AddTransport(gqltransport.GET{})
	srv.AddTransport(gqltransport.POST{})
	srv.AddTransport(gqltransport.MultipartForm{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	return withLoaders(r.Images, srv)
}

// hostileRun is what one request cost.
type hostileRun struct {
	status            int
	code, limit       string // the first error's extensions.code and .limit
	wall, cpu         time.Duration
	alloc, peak, resp uint64
}

func (r hostileRun) answer() string {
	s := fmt.Sprint(r.status)
	if r.code != "" {
		s += " " + r.code
	}
	if r.limit != "" {
		s += " (" + r.limit + ")"
	}
	return s
}

var hostileSamples = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}

func heapNow() (allocs, live uint64) {
	s := append([]metrics.Sample(nil), hostileSamples...)
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure sends doc once to h, after a GC, sampling the live heap every
// half millisecond.
func measure(h http.Handler, doc hostileDoc) hostileRun {
	body, _ := json.Marshal(map[string]any{"query": doc.query})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json")
	w := httptest.NewRecorder()
	runtime.GC()
	alloc0, live0 := heapNow()
	var peak uint64
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(500 * time.Microsecond)
		defer t.Stop()
		for {
			if _, live := heapNow(); live > peak {
				peak = live
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	cpu0, start := cpuNow(), time.Now()
	h.ServeHTTP(w, req)
	run := hostileRun{wall: time.Since(start), cpu: cpuNow() - cpu0, status: w.Code, resp: uint64(w.Body.Len())}
	close(stop)
	<-stopped
	alloc1, live1 := heapNow()
	run.alloc = alloc1 - alloc0
	peak = max(peak, live1)
	if peak > live0 {
		run.peak = peak - live0
	}
	var r struct {
		Errors []struct {
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if json.Unmarshal(w.Body.Bytes(), &r) == nil && len(r.Errors) > 0 {
		run.code, _ = r.Errors[0].Extensions["code"].(string)
		run.limit, _ = r.Errors[0].Extensions["limit"].(string)
	}
	return run
}

func BenchmarkHostileGraphQL(b *testing.B) {
	if os.Getenv("SATCHEL_BENCH_GRAPHQL") != "1" {
		b.Skip("set SATCHEL_BENCH_GRAPHQL=1 to run the hostile-document benchmark (see make bench-graphql)")
	}
	g := newTestGraph(b, 1000, transport.Config{Introspection: true})
	graphiQLIntrospection = introspectionQuery(b)
	stock := stockServer(g, g.resolver)
	sides := []struct {
		name string
		h    func(secret bool) http.Handler
	}{
		{"before", func(secret bool) http.Handler { return g.withPrincipal(stock, secret) }},
		{"after", g.as},
	}
	var mu sync.Mutex
	results := map[string][2]hostileRun{}
	for _, doc := range hostileDocs() {
		for i, side := range sides {
			if doc.within && side.name == "before" {
				continue
			}
			b.Run(strings.ReplaceAll(doc.name, " ", "_")+"/"+side.name, func(b *testing.B) {
				var run hostileRun
				for range b.N {
					run = measure(side.h(doc.secret), doc)
				}
				b.ReportMetric(float64(run.cpu.Nanoseconds()), "cpu-ns/op")
				b.ReportMetric(float64(run.alloc), "alloc-B/op")
				b.ReportMetric(float64(run.peak), "peak-heap-B")
				b.ReportMetric(float64(run.resp), "resp-B")
				mu.Lock()
				r := results[doc.name]
				r[i] = run
				results[doc.name] = r
				mu.Unlock()
			})
		}
	}
	report := hostileReport(results)
	fmt.Println()
	fmt.Print(report)
	out := filepath.Join("..", "bench", "RESULTS-graphql.md")
	if err := os.WriteFile(out, []byte(report), 0o644); err != nil {
		b.Fatal(err)
	}
	fmt.Println("written to bench/RESULTS-graphql.md")
}
