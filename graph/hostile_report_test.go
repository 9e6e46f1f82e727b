package graph

import (
	"fmt"
	"runtime"
	"strings"
	"time"
)

// hostileReport is the Markdown of the results, as bench/RESULTS-graphql.md
// holds it: before and after side by side, then the documents within the
// limits.
func hostileReport(results map[string][2]hostileRun) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "# Hostile GraphQL documents: before and after issue 12\n\n")
	fmt.Fprintf(&sb, "Written by `make bench-graphql` (graph/hostile_bench_test.go, BenchmarkHostileGraphQL) on %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	sb.WriteString("Each document is sent once, in-process (`ServeHTTP`, `Accept: application/graphql-response+json`), after a GC, to\n" +
		"**before**: a stock gqlgen server (`handler.New(NewExecutableSchema(...))` with gqlgen's default transports, query cache,\n" +
		"introspection and APQ: `NewDefaultServer` without websockets) and **after**: Satchel's `graph.NewHandler` with its default\n" +
		"`transport.Config`. Both run Satchel's resolvers over the same SQLite database: one account with 1000 files.\n\n" +
		"- CPU: user + system time of the process during the request (getrusage), GC included.\n" +
		"- Allocated: bytes allocated during the request (`/gc/heap/allocs:bytes`).\n" +
		"- Peak heap: the highest heap sampled every 0.5 ms during the request, above the heap before it\n" +
		"  (`/memory/classes/heap/objects:bytes`: live objects and dead ones not yet swept).\n" +
		"- ×: before / after.\n\n")
	sb.WriteString("| document | answer before | answer after | CPU before | CPU after | × | allocated before | allocated after | × | peak heap before | peak heap after | × | response before |\n")
	sb.WriteString("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, doc := range hostileDocs() {
		r, ok := results[doc.name]
		if !ok || doc.within {
			continue
		}
		be, af := r[0], r[1]
		fmt.Fprintf(&sb, "| %s (%s) | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			doc.name, doc.note, be.answer(), af.answer(),
			dur(be.cpu), dur(af.cpu), ratio(float64(be.cpu), float64(af.cpu)),
			size(be.alloc), size(af.alloc), ratio(float64(be.alloc), float64(af.alloc)),
			size(be.peak), size(af.peak), ratio(float64(be.peak), float64(af.peak)),
			size(be.resp))
	}
	sb.WriteString("\nThe costliest documents within the limits, and what real clients send (after only):\n\n")
	sb.WriteString("| document | answer | CPU | allocated | peak heap | response |\n|---|---|---:|---:|---:|---:|\n")
	for _, doc := range hostileDocs() {
		if r, ok := results[doc.name]; ok && doc.within {
			af := r[1]
			fmt.Fprintf(&sb, "| %s (%s) | %s | %s | %s | %s | %s |\n", doc.name, doc.note, af.answer(), dur(af.cpu), size(af.alloc), size(af.peak), size(af.resp))
		}
	}
	fmt.Fprintf(&sb, "\nMachine: %d CPUs, %s/%s, %s. Wall times (before / after):", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	for _, doc := range hostileDocs() {
		if r, ok := results[doc.name]; ok && !doc.within {
			fmt.Fprintf(&sb, " %s: %s / %s;", doc.name, dur(r[0].wall), dur(r[1].wall))
		}
	}
	sb.WriteString("\n")
	return sb.String()
}

func dur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%d µs", d.Microseconds())
}

func size(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func ratio(before, after float64) string {
	if after <= 0 {
		return "–"
	}
	r := before / after
	if r >= 100 {
		return fmt.Sprintf("%.0f×", r)
	}
	return fmt.Sprintf("%.1f×", r)
}
