package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"sync"
	"syscall"
	"time"
)

const (
	openSize  = 1 << 20  // phase 3 upload size
	openChunk = 64 << 10 // phase 3 PATCH size
)

// openUploads creates n uploads of 1 MiB, then sends them as 64 KiB PATCHes
// from `workers` goroutines, each cycling round-robin over its share of the
// uploads. Every upload is created before the first PATCH and none gets its
// last chunk before every one has had all the others: all n are open at once.
func openUploads(t *target, n, workers int, scratchDir string) countResult {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	data := make([]byte, openSize)
	rand.NewChaCha8([32]byte{3}).Read(data)
	workers = min(workers, n)
	locs := make([]string, n)
	failed := make([]bool, n)
	var errs errLog

	syscall.Sync()
	idle := idleRSS(t.pid)
	if err := prefault(scratchDir, int64(n)*openSize); err != nil {
		errs.add(err)
	}
	s := startSampler(t.pid)
	cpu0, start := t.cpu(), time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				loc, err := t.create(ctx, openSize, nil)
				if err != nil {
					errs.add(err)
					failed[i] = true
					continue
				}
				locs[i] = loc
			}
		})
	}
	wg.Wait() // every upload exists before the first byte is sent
	open := 0
	for _, f := range failed {
		if !f {
			open++
		}
	}
	// Send all but the last chunk of every upload, then the last chunks:
	// no upload finishes before every one has had 15 of its 16 chunks.
	patchRange := func(from, to int64) {
		for w := range workers {
			wg.Go(func() {
				for off := from; off < to; off += openChunk {
					for i := w; i < n; i += workers {
						if failed[i] {
							continue
						}
						if err := t.patch(ctx, locs[i], off, bytes.NewReader(data[off:off+openChunk]), openChunk); err != nil {
							errs.add(err)
							failed[i] = true
						}
					}
				}
			})
		}
		wg.Wait()
	}
	patchRange(0, openSize-openChunk)
	patchRange(openSize-openChunk, openSize)
	dur, cpu := time.Since(start), t.cpu()-cpu0
	rss := s.finish(idle)
	t.idle()
	return countResult{n: n, errs: errs.report(t.name, "open uploads"), dur: dur, cpu: cpu, rss: rss, open: open}
}
