package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"strconv"
	"syscall"
	"time"
)

type bigResult struct {
	size int64
	dur  time.Duration
	cpu  time.Duration // the server's CPU time during the upload
	rss  rssStats
}

func (r bigResult) mbps() float64  { return float64(r.size) / r.dur.Seconds() / 1e6 }
func (r bigResult) mibps() float64 { return float64(r.size) / r.dur.Seconds() / (1 << 20) }

func bigUpload(t *target, file string, size int64, sum, scratchDir string) (bigResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	syscall.Sync() // no dirty pages of the last run are written back during this one
	f, err := os.Open(file)
	if err != nil {
		return bigResult{}, err
	}
	defer f.Close()
	idle := idleRSS(t.pid)
	if err := prefault(scratchDir, size); err != nil {
		return bigResult{}, err
	}
	s := startSampler(t.pid)
	cpu0, start := t.cpu(), time.Now()
	loc, err := t.create(ctx, size, nil)
	if err == nil {
		// *os.File as the body lets net/http send it with sendfile.
		err = t.patch(ctx, loc, 0, f, size)
	}
	dur, cpu := time.Since(start), t.cpu()-cpu0
	rss := s.finish(idle)
	t.idle()
	if err != nil {
		return bigResult{}, err
	}
	// Correctness: the server has every byte.
	off, err := t.head(ctx, loc)
	if err != nil {
		return bigResult{}, fmt.Errorf("HEAD after upload: %w", err)
	}
	if off != size {
		return bigResult{}, fmt.Errorf("HEAD after upload: Upload-Offset %d, want %d", off, size)
	}
	if t.secret != "" {
		var out struct {
			File *struct {
				Size   json.Number
				Sha256 string
			}
		}
		if err := t.graphql(ctx, `query($id: ID!) { file(id: $id) { size sha256 } }`, map[string]any{"id": path.Base(loc)}, &out); err != nil {
			return bigResult{}, fmt.Errorf("file query: %w", err)
		}
		if out.File == nil || out.File.Size.String() != strconv.FormatInt(size, 10) || out.File.Sha256 != sum {
			return bigResult{}, fmt.Errorf("file after upload: got %+v, want size %d sha256 %s", out.File, size, sum)
		}
	}
	// Free the space (and the page cache) for the next run.
	if err := t.remove(ctx, loc); err != nil {
		return bigResult{}, fmt.Errorf("delete after upload: %w", err)
	}
	t.idle()
	return bigResult{size: size, dur: dur, cpu: cpu, rss: rss}, nil
}
