package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"satchel/bench/internal/benchkit"
)

const partSize = 5 << 20 // Satchel's multipart part size

type mpResult struct {
	size   int64
	parts  int
	inline bool
	dur    time.Duration // from the begin mutation to the returned File
	// begin: beginMultipartUpload; puts: then until every PUT is answered
	// (with inline completes: and every part completed); completes: the
	// completeUploadPart calls before the last (not with inline completes);
	// last: the completeUploadPart that returned the File (assembly).
	begin, puts, completes, last time.Duration
	cpu                          time.Duration // the server's CPU time
	rss                          rssStats
	// digest: how Satchel hashed the file (its
	// satchel_multipart_digest_bytes_total): streamed in, from parts held
	// in memory, read back from the store.
	digest [3]float64
}

func (r mpResult) mbps() float64  { return float64(r.size) / r.dur.Seconds() / 1e6 }
func (r mpResult) mibps() float64 { return float64(r.size) / r.dur.Seconds() / (1 << 20) }

func (r mpResult) phases() string {
	digest := fmt.Sprintf("; SHA-256 of the file: %.0f MiB streamed, %.0f MiB from memory, %.0f MiB read back",
		r.digest[0]/(1<<20), r.digest[1]/(1<<20), r.digest[2]/(1<<20))
	if r.inline {
		return fmt.Sprintf("%d parts, %v: begin %v, PUTs+completes %v, of which the last complete %v",
			r.parts, r.dur.Round(time.Millisecond), r.begin.Round(time.Millisecond), r.puts.Round(time.Millisecond), r.last.Round(time.Millisecond)) + digest
	}
	return fmt.Sprintf("%d parts, %v: begin %v, PUTs %v, completes %v, last complete %v",
		r.parts, r.dur.Round(time.Millisecond), r.begin.Round(time.Millisecond), r.puts.Round(time.Millisecond), r.completes.Round(time.Millisecond), r.last.Round(time.Millisecond)) + digest
}

// digestCounters reads Satchel's satchel_multipart_digest_bytes_total
// (streamed, held, read_back) from its /metrics (zeros when absent).
func (t *target) digestCounters(ctx context.Context) [3]float64 {
	var out [3]float64
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
		for i, how := range []string{"streamed", "held", "read_back"} {
			if v, ok := strings.CutPrefix(line, `satchel_multipart_digest_bytes_total{how="`+how+`"} `); ok {
				out[i], _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
			}
		}
	}
	return out
}

func mpName(inline bool) string {
	if inline {
		return "inline"
	}
	return "after"
}

type uploadPartInfo struct {
	UploadPartIndex int
	UploadURL       string
	Range           struct{ InclusiveStart, InclusiveEnd json.Number }
}

type mpFile struct {
	ID     string
	Size   json.Number
	Sha256 string
}

const uploadPartFields = `uploadPartIndex uploadUrl range { inclusiveStart inclusiveEnd }`

// multipartUpload sends file as a multipart upload to Satchel, as an
// Upload.io-style client does, with the public key: beginMultipartUpload,
// then per part uploadPart (for its URL; part 0 comes with the begin) and
// one PUT of its bytes, `workers` parts in flight, each PUT's ETag kept;
// then completeUploadPart for every part in order (inline: each part right
// after its PUT, by its worker). The time runs from the begin mutation to
// the completion that returns the File, whose size and sha256 are checked.
func multipartUpload(t *target, file string, size int64, sum, scratchDir string, workers int, inline bool) (mpResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	syscall.Sync()
	f, err := os.Open(file)
	if err != nil {
		return mpResult{}, err
	}
	defer f.Close()
	idle := idleRSS(t.pid)
	if err := prefault(scratchDir, size); err != nil {
		return mpResult{}, err
	}
	r := mpResult{size: size, inline: inline}
	d0 := t.digestCounters(ctx)
	s := startSampler(t.pid)
	cpu0, start := t.cpu(), time.Now()
	fileID, final, err := multipartSend(ctx, t, f, size, workers, inline, &r)
	r.dur, r.cpu = time.Since(start), t.cpu()-cpu0
	r.rss = s.finish(idle)
	d1 := t.digestCounters(ctx)
	for i := range r.digest {
		r.digest[i] = d1[i] - d0[i]
	}
	t.idle()
	if err != nil {
		if fileID != "" {
			benchkit.Logf("multipart upload %s failed; its parts expire with the upload TTL", fileID)
		}
		return mpResult{}, err
	}
	if final == nil || final.ID != fileID || final.Size.String() != strconv.FormatInt(size, 10) || final.Sha256 != sum {
		return mpResult{}, fmt.Errorf("assembled file: got %+v, want id %s, size %d, sha256 %s", final, fileID, size, sum)
	}
	if err := t.remove(ctx, fileID); err != nil {
		return mpResult{}, fmt.Errorf("delete after upload: %w", err)
	}
	t.idle()
	return r, nil
}

func multipartSend(ctx context.Context, t *target, f *os.File, size int64, workers int, inline bool, r *mpResult) (string, *mpFile, error) {
	t0 := time.Now()
	var begun struct {
		BeginMultipartUpload struct {
			FileID      string
			UploadParts struct {
				Count int
				First uploadPartInfo
			}
		}
	}
	err := t.graphqlAs(ctx, t.auth, `mutation($in: BeginMultipartUploadInput!) { beginMultipartUpload(input: $in) { fileId uploadParts { count first { `+uploadPartFields+` } } } }`,
		map[string]any{"in": map[string]any{"fileName": "bench.bin", "fileSize": size, "mime": "application/octet-stream"}}, &begun)
	if err != nil {
		return "", nil, fmt.Errorf("beginMultipartUpload: %w", err)
	}
	b := begun.BeginMultipartUpload
	n := b.UploadParts.Count
	if want := int((size + partSize - 1) / partSize); n != want || b.FileID == "" {
		return b.FileID, nil, fmt.Errorf("beginMultipartUpload: fileId %q, %d parts, want %d", b.FileID, n, want)
	}
	r.parts = n
	t1 := time.Now()
	r.begin = t1.Sub(t0)

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	etags := make([]string, n)
	var final *mpFile
	var finalMu sync.Mutex
	complete := func(i int) error {
		var out struct {
			CompleteUploadPart struct {
				RemainingUploadParts []int
				File                 *mpFile
			}
		}
		started := time.Now()
		err := t.graphqlAs(ctx, t.auth, `mutation($in: CompleteUploadPartInput!) { completeUploadPart(input: $in) { remainingUploadParts file { id size sha256 } } }`,
			map[string]any{"in": map[string]any{"fileId": b.FileID, "uploadPartIndex": i, "etag": etags[i]}}, &out)
		if err != nil {
			return fmt.Errorf("completeUploadPart %d: %w", i, err)
		}
		if c := out.CompleteUploadPart; c.File != nil {
			if len(c.RemainingUploadParts) != 0 {
				return fmt.Errorf("completeUploadPart %d: a file and remaining parts %v", i, c.RemainingUploadParts)
			}
			finalMu.Lock()
			final, r.last = c.File, time.Since(started)
			finalMu.Unlock()
		}
		return nil
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			var put rawPutter
			defer put.close()
			for i := range next {
				if err := sendPart(ctx, t, &put, f, size, b.FileID, i, b.UploadParts.First, &etags[i]); err != nil {
					cancel(err)
					continue
				}
				if inline {
					if err := complete(i); err != nil {
						cancel(err)
					}
				}
			}
		})
	}
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return b.FileID, nil, err
	}
	t2 := time.Now()
	r.puts = t2.Sub(t1)
	if !inline {
		for i := range n {
			if err := complete(i); err != nil {
				return b.FileID, nil, err
			}
			if i < n-1 && final != nil {
				return b.FileID, nil, fmt.Errorf("completeUploadPart %d of %d returned the file", i, n)
			}
		}
		r.completes = time.Since(t2) - r.last
	}
	if final == nil {
		return b.FileID, nil, errors.New("no completeUploadPart returned the file")
	}
	return b.FileID, final, nil
}

// sendPart asks for part i's URL (part 0's came with the begin) and PUTs
// the part's bytes there, read from f (with sendfile), keeping the
// answered ETag.
func sendPart(ctx context.Context, t *target, put *rawPutter, f *os.File, size int64, fileID string, i int, first uploadPartInfo, etag *string) error {
	part := first
	if i > 0 {
		var out struct{ UploadPart uploadPartInfo }
		if err := t.graphqlAs(ctx, t.auth, `query($id: ID!, $i: Int!) { uploadPart(fileId: $id, uploadPartIndex: $i) { `+uploadPartFields+` } }`,
			map[string]any{"id": fileID, "i": i}, &out); err != nil {
			return fmt.Errorf("uploadPart %d: %w", i, err)
		}
		part = out.UploadPart
	}
	start, err1 := part.Range.InclusiveStart.Int64()
	end, err2 := part.Range.InclusiveEnd.Int64()
	if err1 != nil || err2 != nil || part.UploadPartIndex != i || part.UploadURL == "" ||
		start != int64(i)*partSize || end != min(start+partSize, size)-1 {
		return fmt.Errorf("uploadPart %d: unexpected %+v", i, part)
	}
	n := end - start + 1
	resp, body, err := put.put(ctx, part.UploadURL, f, start, n)
	if err != nil {
		return fmt.Errorf("PUT part %d: %w", i, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("PUT part %d: status %d, want 200: %s", i, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	if *etag = resp.Header.Get("ETag"); *etag == "" {
		return fmt.Errorf("PUT part %d: no ETag", i)
	}
	return nil
}
