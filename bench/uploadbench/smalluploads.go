package main

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"satchel/bench/internal/benchkit"
)

const smallBody = 16 << 10 // phase 2 body

type countResult struct {
	n, errs int
	dur     time.Duration
	cpu     time.Duration // the server's CPU time during the run
	// gwCPU and selfCPU are the S3 gateway's and the driver's CPU time
	// during the run (phase 2; phase 3 has them in rss).
	gwCPU, selfCPU time.Duration
	rss            rssStats
	open           int // uploads open at once (phase 3)
	// Satchel's database counters over the run (phase 2; zero for tusd).
	statements, commits, writes float64
}

func (r countResult) rate() float64 { return float64(r.n-r.errs) / r.dur.Seconds() }

// errLog keeps the first few distinct errors of a run for the log.
type errLog struct {
	mu    sync.Mutex
	n     int
	first []string
}

func (e *errLog) add(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n++
	if len(e.first) < 5 {
		e.first = append(e.first, err.Error())
	}
}

func (e *errLog) report(name, phase string) int {
	for _, m := range e.first {
		benchkit.Logf("error: %s %s: %s", name, phase, m)
	}
	return e.n
}

func smallUploads(t *target, n, conc int) countResult {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	body := make([]byte, smallBody)
	rand.NewChaCha8([32]byte{2}).Read(body)
	var next atomic.Int64
	var errs errLog
	var wg sync.WaitGroup
	m0 := t.dbCounters(ctx)
	gw := watched[t.pid].gatewayPID
	gw0, self0 := gatewayCPU(gw), benchkit.CPUTime("self")
	cpu0, start := t.cpu(), time.Now()
	for range conc {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if _, err := t.create(ctx, smallBody, body); err != nil {
					errs.add(err)
				}
			}
		})
	}
	wg.Wait()
	dur, cpu := time.Since(start), t.cpu()-cpu0
	gwCPU, selfCPU := gatewayCPU(gw)-gw0, benchkit.CPUTime("self")-self0
	m1 := t.dbCounters(ctx)
	t.idle()
	return countResult{n: n, errs: errs.report(t.name, "creation-with-upload"), dur: dur, cpu: cpu,
		gwCPU: gwCPU, selfCPU: selfCPU,
		statements: m1[0] - m0[0], commits: m1[1] - m0[1], writes: m1[2] - m0[2]}
}

// dbCounters reads Satchel's satchel_db_statements_total,
// satchel_db_commits_total and satchel_db_commit_writes_total from its
// /metrics (zeros for tusd, or when they cannot be read).
func (t *target) dbCounters(ctx context.Context) [3]float64 {
	var out [3]float64
	if t.name != "satchel" {
		return out
	}
	u := *t.endpoint
	u.Path, u.RawQuery = "/metrics", ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return out
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(body), "\n") {
		for i, name := range []string{"satchel_db_statements_total ", "satchel_db_commits_total ", "satchel_db_commit_writes_total "} {
			if v, ok := strings.CutPrefix(line, name); ok {
				out[i], _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
			}
		}
	}
	return out
}
