// Command uploadbench measures Satchel's tus endpoint against the standalone
// tusd binary on the same machine, in one run, alternating the two servers
// (satchel, tusd, satchel, tusd, ...) so that drift of the machine hits both
// alike. It prints figures and Satchel/tusd ratios, never asserts on time.
//
// It is started by bench/upload.sh, which builds and starts both servers and
// passes their URLs and process IDs. The measures:
//
//  1. one large tus upload: POST creation, then one PATCH streaming the body
//     from a file on disk; median of -runs runs, in MB/s and MiB/s;
//  2. -n creation-with-upload requests (16 KiB bodies), -concurrency in
//     flight: uploads per second, median of -runs runs;
//  3. -n uploads open at once, each 1 MiB sent as 64 KiB PATCHes by
//     -workers goroutines: error count and total time;
//  4. the server's VmRSS (from /proc/<pid>/status, every 20 ms) during (1)
//     and (3): idle before, peak during, and peak minus idle;
//  5. Satchel only (tusd has no multipart API), not run unless -phases
//     names it: the same large file as a multipart upload (GraphQL
//     beginMultipartUpload with the public key, uploadPart for each part's
//     URL, one PUT per 5 MiB part read from the file with a SectionReader,
//     -part-workers in flight, then completeUploadPart for each part with its
//     ETag; the last one returns the File), against one tus POST + PATCH of
//     the same file on the same server, alternately, -runs runs of each; in
//     MB/s. A second multipart client, which completes each part right after
//     its PUT, is measured in the same rotation. Written to -multipart-md.
//
// Correctness is checked on the way: every response's status and
// Upload-Offset; after each large upload a HEAD must show Upload-Offset equal
// to the size, and for Satchel the File's size and sha256 (GraphQL, secret
// key) must match the source file; a multipart upload's File must have the
// source's size and sha256 too.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"satchel/bench/internal/benchkit"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"
)

const (
	smallBody = 16 << 10 // phase 2 body
	openSize  = 1 << 20  // phase 3 upload size
	openChunk = 64 << 10 // phase 3 PATCH size
	sampleRSS = 20 * time.Millisecond
)

type options struct {
	satchelURL, satchelData string
	satchelPID              int
	tusdURL                 string
	tusdPID                 int
	file                    string
	size                    int64
	n                       int
	runs                    int
	openRuns                int
	concurrency             int
	workers                 int
	mode                    string
	nproc                   string
	satchelRev              string
	satchelDB               string
	tusdVersion             string
	mdOut                   string
	tusdFirst               bool
	phases                  string
	scratchDir              string
	partWorkers             int
	multipartMD             string
}

func main() {
	var o options
	flag.StringVar(&o.satchelURL, "satchel-url", "", "Satchel tus endpoint, e.g. http://127.0.0.1:18080/uploads/")
	flag.StringVar(&o.satchelData, "satchel-data", "", "Satchel data dir (for bootstrap-keys.json)")
	flag.IntVar(&o.satchelPID, "satchel-pid", 0, "Satchel server process ID (for RSS)")
	flag.StringVar(&o.tusdURL, "tusd-url", "", "tusd endpoint, e.g. http://127.0.0.1:18081/files/")
	flag.IntVar(&o.tusdPID, "tusd-pid", 0, "tusd process ID (for RSS)")
	flag.StringVar(&o.file, "file", "bench/out/blob.bin", "source file of the large upload (created with random bytes if missing or of another size)")
	flag.Int64Var(&o.size, "size", 1<<30, "size of the large upload in bytes")
	flag.IntVar(&o.n, "n", 1000, "uploads in phases 2 and 3")
	flag.IntVar(&o.runs, "runs", 3, "runs per server of phases 1 and 2 (median reported)")
	flag.IntVar(&o.openRuns, "open-runs", 1, "runs per server of phase 3 (the worst reported)")
	flag.IntVar(&o.concurrency, "concurrency", 16, "requests in flight in phase 2")
	flag.IntVar(&o.workers, "workers", 64, "goroutines (and connections) in phase 3")
	flag.StringVar(&o.mode, "mode", "full", "label of the run: full or quick")
	flag.StringVar(&o.nproc, "nproc", strconv.Itoa(runtime.NumCPU()), "CPU count to report (`nproc`)")
	flag.StringVar(&o.satchelRev, "satchel-rev", "", "Satchel revision to report")
	flag.StringVar(&o.satchelDB, "satchel-db", "SQLite", "the database Satchel runs on, to report (e.g. \"PostgreSQL 15.4 (local, 127.0.0.1)\")")
	flag.StringVar(&o.tusdVersion, "tusd-version", "v2.10.0", "tusd version to report")
	flag.StringVar(&o.mdOut, "md", "bench/out/upload-results.md", "where to write the Markdown results")
	flag.BoolVar(&o.tusdFirst, "tusd-first", false, "alternate tusd, satchel, ... instead (to check for order effects)")
	flag.StringVar(&o.phases, "phases", "123", "which of the measures (1), (2), (3), (5) to run, e.g. 2 to profile one; 5 (multipart, Satchel only) needs no tusd")
	flag.StringVar(&o.scratchDir, "scratch-dir", "", "where to write the scratch file before each run (default: the parent of -satchel-data)")
	flag.IntVar(&o.partWorkers, "part-workers", 4, "parts in flight in (5)")
	flag.StringVar(&o.multipartMD, "multipart-md", "bench/out/multipart-results.md", "where to write the Markdown results of (5)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "uploadbench:", err)
		os.Exit(1)
	}
}

// target is one server under test.
type target struct {
	name     string
	endpoint *url.URL // the tus creation URL
	pid      int
	auth     string // Authorization header on every request, as tus clients send it
	secret   string // Satchel's secret key, for the GraphQL checks
	client   *http.Client
}

func newTarget(name, endpoint string, pid int) (*target, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%s: bad endpoint %q", name, endpoint)
	}
	if pid <= 0 {
		return nil, fmt.Errorf("%s: a process ID is needed", name)
	}
	if _, err := readRSS(pid); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	tr := &http.Transport{
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 512,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
		WriteBufferSize:     64 << 10,
		ReadBufferSize:      16 << 10,
	}
	return &target{name: name, endpoint: u, pid: pid, client: &http.Client{Transport: tr}}, nil
}

// idle closes the client's kept-alive connections so the server does not
// carry them into the next measure.
func (t *target) idle() { t.client.Transport.(*http.Transport).CloseIdleConnections() }

func run(o options) error {
	if o.runs < 1 || o.openRuns < 1 || o.n < 1 || o.concurrency < 1 || o.workers < 1 || o.size < 1 || o.partWorkers < 1 {
		return errors.New("-runs, -open-runs, -n, -concurrency, -workers, -part-workers and -size must be positive")
	}
	sat, err := newTarget("satchel", o.satchelURL, o.satchelPID)
	if err != nil {
		return err
	}
	var keys struct{ PublicKey, SecretKey string }
	raw, err := os.ReadFile(filepath.Join(o.satchelData, "bootstrap-keys.json"))
	if err != nil {
		return fmt.Errorf("satchel keys: %w", err)
	}
	if err := json.Unmarshal(raw, &keys); err != nil || keys.PublicKey == "" {
		return fmt.Errorf("satchel keys: no publicKey in bootstrap-keys.json (%v)", err)
	}
	sat.auth, sat.secret = "Bearer "+keys.PublicKey, keys.SecretKey
	if o.scratchDir == "" {
		o.scratchDir = filepath.Dir(filepath.Clean(o.satchelData))
	}
	// tusd takes part in (1), (2) and (3); (5) is Satchel's alone.
	targets := []*target{sat}
	var tusd *target
	if o.vsTusd() {
		if tusd, err = newTarget("tusd", o.tusdURL, o.tusdPID); err != nil {
			return err
		}
		targets = []*target{sat, tusd}
		if o.tusdFirst {
			targets = []*target{tusd, sat}
		}
	}

	sum, err := ensureFile(o.file, o.size)
	if err != nil {
		return err
	}
	benchkit.Logf("source file %s: %s, sha256 %s", o.file, human(o.size), sum[:16]+"...")

	rep := &report{opts: o, started: time.Now(), load: [2]string{benchkit.LoadAvg()}}
	busy0, self0, sat0, tusd0 := machineBusy(), benchkit.CPUTime("self"), sat.cpu(), tusd.cpu()

	// Warm up: first requests pay for connections, database handles, code
	// paging; none of that is measured.
	for _, t := range targets {
		if err := warmUp(t); err != nil {
			return fmt.Errorf("warm-up, %s: %w", t.name, err)
		}
	}

	// (1) + (4a): one large upload, alternating.
	for i := range o.runsOf('1') {
		for _, t := range targets {
			r, err := bigUpload(t, o.file, o.size, sum, o.scratchDir)
			if err != nil {
				return fmt.Errorf("phase 1, %s run %d: %w", t.name, i+1, err)
			}
			benchkit.Logf("1 big upload     %-7s run %d: %7.1f MB/s  (%v, server CPU %v; RSS idle %s, peak %s)", t.name, i+1, r.mbps(), r.dur.Round(time.Millisecond), r.cpu, kib(r.rss.idle), kib(r.rss.peak))
			rep.big[idx(t)] = append(rep.big[idx(t)], r)
		}
	}
	// (2): creation-with-upload. One unmeasured round per server first: on
	// this VM the first thousand uploads after start-up (or after a pause)
	// cost both servers several times the CPU of the next ones (the
	// kernel's fresh pages for new files and heap), which made the first
	// measured runs a lottery.
	if o.runsOf('2') > 0 {
		for _, t := range targets {
			r := smallUploads(t, o.n, o.concurrency)
			benchkit.Logf("2 creation+body  %-7s warm-up: %7.1f uploads/s (not measured)", t.name, r.rate())
		}
	}
	for i := range o.runsOf('2') {
		for _, t := range targets {
			r := smallUploads(t, o.n, o.concurrency)
			db := ""
			if r.commits > 0 {
				db = fmt.Sprintf("; %.1f SQL statements per upload, %.1f writes per commit", r.statements/float64(r.n), r.writes/r.commits)
			}
			benchkit.Logf("2 creation+body  %-7s run %d: %7.1f uploads/s  (%d in %v, server CPU %v, %d errors%s)", t.name, i+1, r.rate(), r.n, r.dur.Round(time.Millisecond), r.cpu, r.errs, db)
			rep.small[idx(t)] = append(rep.small[idx(t)], r)
		}
	}
	// (3) + (4b): many uploads open at once.
	for i := range o.runsOf('3') {
		for _, t := range targets {
			r := openUploads(t, o.n, o.workers, o.scratchDir)
			benchkit.Logf("3 open uploads   %-7s run %d: %d uploads, %d errors, %v  (server CPU %v; RSS idle %s, peak %s)", t.name, i+1, r.n, r.errs, r.dur.Round(time.Millisecond), r.cpu, kib(r.rss.idle), kib(r.rss.peak))
			rep.open[idx(t)] = append(rep.open[idx(t)], r)
		}
	}
	// (5): multipart against one PATCH, on Satchel, alternately; the order
	// of the three clients turns by one each run.
	for i := range o.runsOf('5') {
		for k := range 3 {
			switch (i + k) % 3 {
			case 0, 1:
				inline := (i+k)%3 == 1
				r, err := multipartUpload(sat, o.file, o.size, sum, o.scratchDir, o.partWorkers, inline)
				if err != nil {
					return fmt.Errorf("phase 5, multipart (inline completes: %v) run %d: %w", inline, i+1, err)
				}
				benchkit.Logf("5 multipart      %-7s run %d: %7.1f MB/s  (%s; server CPU %v; RSS idle %s, peak %s)", mpName(inline), i+1, r.mbps(), r.phases(), r.cpu, kib(r.rss.idle), kib(r.rss.peak))
				if inline {
					rep.mpInline = append(rep.mpInline, r)
				} else {
					rep.mp = append(rep.mp, r)
				}
			case 2:
				r, err := bigUpload(sat, o.file, o.size, sum, o.scratchDir)
				if err != nil {
					return fmt.Errorf("phase 5, one PATCH run %d: %w", i+1, err)
				}
				benchkit.Logf("5 one PATCH      %-7s run %d: %7.1f MB/s  (%v, server CPU %v; RSS idle %s, peak %s)", sat.name, i+1, r.mbps(), r.dur.Round(time.Millisecond), r.cpu, kib(r.rss.idle), kib(r.rss.peak))
				rep.mpTus = append(rep.mpTus, r)
			}
		}
	}

	rep.wall = time.Since(rep.started)
	rep.load[1] = benchkit.LoadAvg()
	rep.others = machineBusy() - busy0 - (benchkit.CPUTime("self") - self0) - (sat.cpu() - sat0) - (tusd.cpu() - tusd0)
	if o.vsTusd() {
		md := rep.markdown()
		fmt.Println()
		rep.text(os.Stdout)
		if err := writeMD(o.mdOut, md); err != nil {
			return err
		}
	}
	if len(rep.mp) > 0 {
		fmt.Println()
		rep.multipartText(os.Stdout)
		if err := writeMD(o.multipartMD, rep.multipartMarkdown()); err != nil {
			return err
		}
	}
	return nil
}

func writeMD(file, md string) error {
	if file == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(file, []byte(md), 0o644); err != nil {
		return err
	}
	benchkit.Logf("wrote %s", file)
	return nil
}

// vsTusd reports whether a measure that compares with tusd is selected.
func (o options) vsTusd() bool { return strings.ContainsAny(o.phases, "123") }

// runsOf is how many runs per server phase p gets (0 when not selected).
func (o options) runsOf(p byte) int {
	if !strings.ContainsRune(o.phases, rune(p)) {
		return 0
	}
	if p == '3' {
		return o.openRuns
	}
	return o.runs
}

func idx(t *target) int {
	if t.name == "satchel" {
		return 0
	}
	return 1
}

// ensureFile creates path with size random bytes unless it already has that
// size, and returns its hex SHA-256.
func ensureFile(path string, size int64) (string, error) {
	if fi, err := os.Stat(path); err != nil || fi.Size() != size {
		benchkit.Logf("writing %s of random bytes to %s", human(size), path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", err
		}
		tmp := path + ".tmp"
		f, err := os.Create(tmp)
		if err != nil {
			return "", err
		}
		rng := rand.NewChaCha8([32]byte{'s', 'a', 't', 'c', 'h', 'e', 'l'})
		buf := make([]byte, 4<<20)
		for left := size; left > 0; {
			n := min(int64(len(buf)), left)
			rng.Read(buf[:n])
			if _, err := f.Write(buf[:n]); err != nil {
				f.Close()
				return "", err
			}
			left -= n
		}
		if err := f.Close(); err != nil {
			return "", err
		}
		if err := os.Rename(tmp, path); err != nil {
			return "", err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, f, make([]byte, 1<<20)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// --- tus requests -----------------------------------------------------------

var uploadMeta = "filename " + base64.StdEncoding.EncodeToString([]byte("bench.bin")) +
	",filetype " + base64.StdEncoding.EncodeToString([]byte("application/octet-stream"))

func (t *target) request(ctx context.Context, method, u string, body io.Reader, n int64) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	req.ContentLength = n
	if n == 0 {
		req.Body = nil
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	if t.auth != "" {
		req.Header.Set("Authorization", t.auth)
	}
	return req, nil
}

// do sends req, drains the response and checks its status.
func (t *target) do(req *http.Request, want int) (*http.Response, error) {
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		return resp, fmt.Errorf("%s %s: status %d, want %d: %s", req.Method, req.URL.Path, resp.StatusCode, want, strings.TrimSpace(string(body)))
	}
	return resp, nil
}

// create sends a tus creation (with body: creation-with-upload) and returns
// the upload URL.
func (t *target) create(ctx context.Context, length int64, body []byte) (string, error) {
	var rd io.Reader
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	req, err := t.request(ctx, http.MethodPost, t.endpoint.String(), rd, int64(len(body)))
	if err != nil {
		return "", err
	}
	req.Header.Set("Upload-Length", strconv.FormatInt(length, 10))
	req.Header.Set("Upload-Metadata", uploadMeta)
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/offset+octet-stream")
	}
	resp, err := t.do(req, http.StatusCreated)
	if err != nil {
		return "", err
	}
	loc, err := t.endpoint.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		return "", fmt.Errorf("POST: bad Location %q", resp.Header.Get("Location"))
	}
	if len(body) > 0 {
		if got := resp.Header.Get("Upload-Offset"); got != strconv.Itoa(len(body)) {
			return "", fmt.Errorf("POST with body: Upload-Offset %q, want %d", got, len(body))
		}
	}
	return loc.String(), nil
}

// patch sends n bytes of body at offset and checks the new offset.
func (t *target) patch(ctx context.Context, loc string, offset int64, body io.Reader, n int64) error {
	req, err := t.request(ctx, http.MethodPatch, loc, body, n)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Upload-Offset", strconv.FormatInt(offset, 10))
	resp, err := t.do(req, http.StatusNoContent)
	if err != nil {
		return err
	}
	if got, want := resp.Header.Get("Upload-Offset"), strconv.FormatInt(offset+n, 10); got != want {
		return fmt.Errorf("PATCH: Upload-Offset %q, want %s", got, want)
	}
	return nil
}

// head returns the upload's Upload-Offset.
func (t *target) head(ctx context.Context, loc string) (int64, error) {
	req, err := t.request(ctx, http.MethodHead, loc, nil, 0)
	if err != nil {
		return 0, err
	}
	resp, err := t.do(req, http.StatusOK)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
}

// graphql runs a query on Satchel with the secret key.
func (t *target) graphql(ctx context.Context, query string, vars map[string]any, out any) error {
	return t.graphqlAs(ctx, "Bearer "+t.secret, query, vars, out)
}

// graphqlAs runs a query on Satchel with the Authorization header auth.
func (t *target) graphqlAs(ctx context.Context, auth, query string, vars map[string]any, out any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	gu := t.endpoint.ResolveReference(&url.URL{Path: "/graphql"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, gu.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", auth)
	resp, err := t.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var env struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(&env); err != nil {
		return fmt.Errorf("graphql: status %d: %w", resp.StatusCode, err)
	}
	if len(env.Errors) > 0 {
		return fmt.Errorf("graphql: %s", env.Errors[0].Message)
	}
	return json.Unmarshal(env.Data, out)
}

// remove deletes a finished upload: tus termination on tusd, deleteFile on
// Satchel (whose tus termination refuses finished files).
func (t *target) remove(ctx context.Context, loc string) error {
	if t.secret == "" {
		req, err := t.request(ctx, http.MethodDelete, loc, nil, 0)
		if err != nil {
			return err
		}
		_, err = t.do(req, http.StatusNoContent)
		return err
	}
	var out struct{ DeleteFile struct{ ID string } }
	return t.graphql(ctx, `mutation($id: ID!) { deleteFile(id: $id) { id } }`, map[string]any{"id": path.Base(loc)}, &out)
}

// --- CPU and RSS ------------------------------------------------------------

func (t *target) cpu() time.Duration {
	if t == nil {
		return 0
	}
	return benchkit.CPUTime(strconv.Itoa(t.pid))
}

// machineBusy returns the CPU time used by everything on the machine, from
// /proc/stat (all but idle and iowait).
func machineBusy() time.Duration {
	raw, _ := os.ReadFile("/proc/stat")
	line, _, _ := strings.Cut(string(raw), "\n")
	f := strings.Fields(line)
	var busy int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 8 { // guest time is already counted in user
			break
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return time.Duration(busy) * benchkit.ClockTick
}

// readRSS returns the process's VmRSS in KiB.
func readRSS(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read RSS: %w", err)
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("read RSS: no VmRSS in /proc/%d/status", pid)
}

// rssStats are in KiB.
type rssStats struct {
	idle, peak int64
	samples    int
}

func (r rssStats) delta() int64 { return r.peak - r.idle }

// idleRSS lets the server settle, then takes the median of a few samples.
func idleRSS(pid int) int64 {
	time.Sleep(500 * time.Millisecond)
	var s []int64
	for range 5 {
		if v, err := readRSS(pid); err == nil {
			s = append(s, v)
		}
		time.Sleep(sampleRSS)
	}
	if len(s) == 0 {
		return 0
	}
	slices.Sort(s)
	return s[len(s)/2]
}

// sampler records the peak VmRSS of pid every 20 ms until stopped.
type sampler struct {
	pid     int
	peak    atomic.Int64
	samples atomic.Int64
	stop    chan struct{}
	done    chan struct{}
}

func startSampler(pid int) *sampler {
	s := &sampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	s.sample()
	go func() {
		defer close(s.done)
		tk := time.NewTicker(sampleRSS)
		defer tk.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tk.C:
				s.sample()
			}
		}
	}()
	return s
}

func (s *sampler) sample() {
	if v, err := readRSS(s.pid); err == nil {
		s.samples.Add(1)
		for {
			p := s.peak.Load()
			if v <= p || s.peak.CompareAndSwap(p, v) {
				break
			}
		}
	}
}

func (s *sampler) finish(idle int64) rssStats {
	s.sample()
	close(s.stop)
	<-s.done
	return rssStats{idle: idle, peak: s.peak.Load(), samples: int(s.samples.Load())}
}

// warmUp sends a few uploads of each kind to t.
func warmUp(t *target) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	data := make([]byte, 4<<20)
	for range 4 {
		if _, err := t.create(ctx, smallBody, data[:smallBody]); err != nil {
			return err
		}
		loc, err := t.create(ctx, int64(len(data)), nil)
		if err != nil {
			return err
		}
		if err := t.patch(ctx, loc, 0, bytes.NewReader(data), int64(len(data))); err != nil {
			return err
		}
	}
	t.idle()
	return nil
}

// prefault writes size bytes to a scratch file in dir and deletes it, just
// before a measured run, so that the run's page cache is made of pages
// that were in use a moment ago.
//
// This machine is a VM whose guest hands freed memory back to the host
// within moments (virtio-balloon free page reporting); the first write to
// such a page faults on the host and makes the kernel's copy into the page
// cache several times slower (perf: copy_folio_from_iter_atomic). Without
// this, whichever server happened to get "returned" pages lost 0.2 to 1 s
// per GiB, at random. It costs the same on any machine and no-one's time.
func prefault(dir string, size int64) error {
	f, err := os.CreateTemp(dir, ".prefault-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	buf := make([]byte, 1<<20)
	for left := size; left > 0; left -= int64(len(buf)) {
		if _, err := f.Write(buf[:min(int64(len(buf)), left)]); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Remove(f.Name())
}

// --- phase 1: one large upload ------------------------------------------------

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

// --- phase 2: creation-with-upload ----------------------------------------------

type countResult struct {
	n, errs int
	dur     time.Duration
	cpu     time.Duration // the server's CPU time during the run
	rss     rssStats
	open    int // uploads open at once (phase 3)
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
	m1 := t.dbCounters(ctx)
	t.idle()
	return countResult{n: n, errs: errs.report(t.name, "creation-with-upload"), dur: dur, cpu: cpu,
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

// --- phase 3: many uploads open at once ----------------------------------------------

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

// --- phase 5: multipart upload (Satchel only) -------------------------------------

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
}

func (r mpResult) mbps() float64  { return float64(r.size) / r.dur.Seconds() / 1e6 }
func (r mpResult) mibps() float64 { return float64(r.size) / r.dur.Seconds() / (1 << 20) }

func (r mpResult) phases() string {
	if r.inline {
		return fmt.Sprintf("%d parts, %v: begin %v, PUTs+completes %v, of which the last complete %v",
			r.parts, r.dur.Round(time.Millisecond), r.begin.Round(time.Millisecond), r.puts.Round(time.Millisecond), r.last.Round(time.Millisecond))
	}
	return fmt.Sprintf("%d parts, %v: begin %v, PUTs %v, completes %v, last complete %v",
		r.parts, r.dur.Round(time.Millisecond), r.begin.Round(time.Millisecond), r.puts.Round(time.Millisecond), r.completes.Round(time.Millisecond), r.last.Round(time.Millisecond))
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
	s := startSampler(t.pid)
	cpu0, start := t.cpu(), time.Now()
	fileID, final, err := multipartSend(ctx, t, f, size, workers, inline, &r)
	r.dur, r.cpu = time.Since(start), t.cpu()-cpu0
	r.rss = s.finish(idle)
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
			for i := range next {
				if err := sendPart(ctx, t, f, size, b.FileID, i, b.UploadParts.First, &etags[i]); err != nil {
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
// the part's bytes there, read from f, keeping the answered ETag.
func sendPart(ctx context.Context, t *target, f *os.File, size int64, fileID string, i int, first uploadPartInfo, etag *string) error {
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
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, part.UploadURL, io.NewSectionReader(f, start, n))
	if err != nil {
		return err
	}
	req.ContentLength = n
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := t.do(req, http.StatusOK)
	if err != nil {
		return fmt.Errorf("PUT part %d: %w", i, err)
	}
	if *etag = resp.Header.Get("ETag"); *etag == "" {
		return fmt.Errorf("PUT part %d: no ETag", i)
	}
	return nil
}

// --- report -----------------------------------------------------------------------

type report struct {
	opts    options
	started time.Time
	load    [2]string // load average at the start and at the end
	wall    time.Duration
	others  time.Duration // CPU time of everything but the two servers and the driver
	big     [2][]bigResult
	small   [2][]countResult
	open    [2][]countResult
	// (5), Satchel only: multipart (completes after the PUTs, and each
	// right after its PUT) and one PATCH.
	mp, mpInline []mpResult
	mpTus        []bigResult
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func kib(v int64) string { return fmt.Sprintf("%.1f MiB", float64(v)/1024) }

func human(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// row is one line of the results table.
type row struct {
	measure, satchel, tusd, ratio, goal, met string
}

func ratio(s, t float64) string {
	if t == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", s/t)
}

// worstRSS is the run with the largest peak minus idle.
func worstRSS(rs []rssStats) rssStats {
	w := rs[0]
	for _, r := range rs[1:] {
		if r.delta() > w.delta() {
			w = r
		}
	}
	return w
}

func (r *report) rows() []row {
	var rows []row
	var bigRSS, openRSS []row
	if len(r.big[0]) > 0 {
		var x []row
		x, bigRSS = r.bigRows()
		rows = append(rows, x...)
	}
	if len(r.small[0]) > 0 {
		rows = append(rows, r.smallRows()...)
	}
	if len(r.open[0]) > 0 {
		var x []row
		x, openRSS = r.openRows()
		rows = append(rows, x...)
	}
	rss := append(bigRSS, openRSS...)
	if len(rss) > 0 {
		rss[0].measure = "(4) " + strings.TrimSpace(rss[0].measure)
	}
	return append(rows, rss...)
}

func mi(v int64) string { return fmt.Sprintf("%.1f", float64(v)/1024) }

// rssRows are the rows of (4) for one measure.
func rssRows(during string, rs [2]rssStats, goal string, met bool) []row {
	f := func(f func(rssStats) int64) (string, string, string) {
		return mi(f(rs[0])), mi(f(rs[1])), ratio(float64(f(rs[0])), float64(f(rs[1])))
	}
	idle := func(r rssStats) int64 { return r.idle }
	peak := func(r rssStats) int64 { return r.peak }
	delta := func(r rssStats) int64 { return r.delta() }
	rows := []row{{measure: "    RSS during " + during + ", MiB: idle before"}, {measure: "    peak"}, {measure: "    peak minus idle", goal: goal}}
	rows[0].satchel, rows[0].tusd, rows[0].ratio = f(idle)
	rows[1].satchel, rows[1].tusd, rows[1].ratio = f(peak)
	rows[2].satchel, rows[2].tusd, rows[2].ratio = f(delta)
	if goal != "" {
		rows[2].met = benchkit.Yes(met)
	}
	return rows
}

func (r *report) bigRows() (rows, rss []row) {
	o := r.opts
	var mb, mib, bigCPU [2]float64
	var bigRSS [2]rssStats
	for i := range 2 {
		var a, b, c []float64
		var rs []rssStats
		for _, x := range r.big[i] {
			a, b, c = append(a, x.mbps()), append(b, x.mibps()), append(c, x.cpu.Seconds())
			rs = append(rs, x.rss)
		}
		mb[i], mib[i], bigCPU[i] = median(a), median(b), median(c)
		bigRSS[i] = worstRSS(rs)
	}
	big := fmt.Sprintf("(1) %s upload, 1 PATCH: MB/s, median of %d", human(o.size), o.runs)
	rows = []row{
		{big, fmt.Sprintf("%.1f", mb[0]), fmt.Sprintf("%.1f", mb[1]), ratio(mb[0], mb[1]), ">= 0.95x tusd", benchkit.Yes(mb[0] >= 0.95*mb[1])},
		{"    same in MiB/s", fmt.Sprintf("%.1f", mib[0]), fmt.Sprintf("%.1f", mib[1]), ratio(mib[0], mib[1]), "", ""},
		{"    server CPU time per upload, s (median)", fmt.Sprintf("%.2f", bigCPU[0]), fmt.Sprintf("%.2f", bigCPU[1]), ratio(bigCPU[0], bigCPU[1]), "", ""},
	}
	return rows, rssRows("(1)", bigRSS, "Satchel < 64 MiB", bigRSS[0].delta() < 64<<10)
}

func (r *report) smallRows() []row {
	o := r.opts
	var rate, smallCPU [2]float64
	var serr [2]int
	for i := range 2 {
		var a, c []float64
		for _, x := range r.small[i] {
			a = append(a, x.rate())
			c = append(c, x.cpu.Seconds()*1000/float64(x.n))
			serr[i] += x.errs
		}
		rate[i], smallCPU[i] = median(a), median(c)
	}
	var st, bt []float64
	for _, x := range r.small[0] {
		if x.commits > 0 {
			st = append(st, x.statements/float64(x.n))
			bt = append(bt, x.writes/x.commits)
		}
	}
	stmts, batch := median(st), median(bt)
	return []row{
		{fmt.Sprintf("(2) %d creation-with-upload (16 KiB), %d in flight: uploads/s, median of %d", o.n, o.concurrency, o.runs),
			fmt.Sprintf("%.0f", rate[0]), fmt.Sprintf("%.0f", rate[1]), ratio(rate[0], rate[1]), ">= 0.7x tusd", benchkit.Yes(rate[0] >= 0.7*rate[1])},
		{"    server CPU time per upload, ms (median)", fmt.Sprintf("%.2f", smallCPU[0]), fmt.Sprintf("%.2f", smallCPU[1]), ratio(smallCPU[0], smallCPU[1]), "", ""},
		{"    errors (all runs)", strconv.Itoa(serr[0]), strconv.Itoa(serr[1]), "", "0", benchkit.Yes(serr[0] == 0)},
		{"    Satchel's SQL statements per upload (median)", fmt.Sprintf("%.1f", stmts), "", "", "", ""},
		{"    Satchel's writes per transaction of its group commit (median)", fmt.Sprintf("%.1f", batch), "", "", "", ""},
	}
}

// openRows reports the worst run of each server.
func (r *report) openRows() (rows, rss []row) {
	o := r.opts
	var oerr, opened [2]int
	var odur, ocpu [2]time.Duration
	var openRSS [2]rssStats
	for i := range 2 {
		var rs []rssStats
		opened[i] = o.n
		for _, x := range r.open[i] {
			oerr[i] += x.errs
			odur[i] = max(odur[i], x.dur)
			ocpu[i] = max(ocpu[i], x.cpu)
			opened[i] = min(opened[i], x.open)
			rs = append(rs, x.rss)
		}
		openRSS[i] = worstRSS(rs)
	}
	runsNote := ""
	if o.openRuns > 1 {
		runsNote = fmt.Sprintf(", worst of %d", o.openRuns)
	}
	rows = []row{
		{fmt.Sprintf("(3) %d uploads open at once, 1 MiB each in 64 KiB PATCHes, %d connections: errors", o.n, min(o.workers, o.n)),
			strconv.Itoa(oerr[0]), strconv.Itoa(oerr[1]), "", "0", benchkit.Yes(oerr[0] == 0)},
		{"    uploads open at once", strconv.Itoa(opened[0]), strconv.Itoa(opened[1]), "", strconv.Itoa(o.n), benchkit.Yes(opened[0] == o.n)},
		{"    total time, s" + runsNote, fmt.Sprintf("%.2f", odur[0].Seconds()), fmt.Sprintf("%.2f", odur[1].Seconds()),
			ratio(odur[0].Seconds(), odur[1].Seconds()), "same order as tusd (< 10x)", benchkit.Yes(odur[0] < 10*odur[1])},
		{"    server CPU time, s" + runsNote, fmt.Sprintf("%.2f", ocpu[0].Seconds()), fmt.Sprintf("%.2f", ocpu[1].Seconds()),
			ratio(ocpu[0].Seconds(), ocpu[1].Seconds()), "", ""},
	}
	return rows, rssRows("(3)", openRSS, "", false)
}

// runs lists every run, in the order they were made.
func (r *report) runs() []string {
	var out []string
	for i := range r.big[0] {
		out = append(out, fmt.Sprintf("(1) run %d: satchel %.1f MB/s (%.2f s, CPU %.2f s, RSS %s -> %s), tusd %.1f MB/s (%.2f s, CPU %.2f s, RSS %s -> %s)", i+1,
			r.big[0][i].mbps(), r.big[0][i].dur.Seconds(), r.big[0][i].cpu.Seconds(), kib(r.big[0][i].rss.idle), kib(r.big[0][i].rss.peak),
			r.big[1][i].mbps(), r.big[1][i].dur.Seconds(), r.big[1][i].cpu.Seconds(), kib(r.big[1][i].rss.idle), kib(r.big[1][i].rss.peak)))
	}
	for i := range r.small[0] {
		out = append(out, fmt.Sprintf("(2) run %d: satchel %.0f uploads/s (%.2f s, CPU %.2f s, %d errors), tusd %.0f uploads/s (%.2f s, CPU %.2f s, %d errors)", i+1,
			r.small[0][i].rate(), r.small[0][i].dur.Seconds(), r.small[0][i].cpu.Seconds(), r.small[0][i].errs,
			r.small[1][i].rate(), r.small[1][i].dur.Seconds(), r.small[1][i].cpu.Seconds(), r.small[1][i].errs))
	}
	for i := range r.open[0] {
		out = append(out, fmt.Sprintf("(3) run %d: satchel %.2f s, CPU %.2f s, %d errors (RSS %s -> %s), tusd %.2f s, CPU %.2f s, %d errors (RSS %s -> %s)", i+1,
			r.open[0][i].dur.Seconds(), r.open[0][i].cpu.Seconds(), r.open[0][i].errs, kib(r.open[0][i].rss.idle), kib(r.open[0][i].rss.peak),
			r.open[1][i].dur.Seconds(), r.open[1][i].cpu.Seconds(), r.open[1][i].errs, kib(r.open[1][i].rss.idle), kib(r.open[1][i].rss.peak)))
	}
	out = append(out, fmt.Sprintf("machine: load average %s at the start, %s at the end; other processes and kernel threads used %.1f s of CPU during the %.0f s run (%.0f%% of one core)",
		r.load[0], r.load[1], r.others.Seconds(), r.wall.Seconds(), 100*r.others.Seconds()/r.wall.Seconds()))
	return out
}

// title names the servers compared, for the printed tables.
func (r *report) title(what string) string {
	o := r.opts
	return fmt.Sprintf("%s: satchel %s on %s (%s mode)", what, o.satchelRev, o.satchelDB, o.mode)
}

func (r *report) text(w io.Writer) {
	fmt.Fprintf(w, "%s, tusd %s\n\n", r.title("Upload benchmark"), r.opts.tusdVersion)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measure\tsatchel\ttusd\tsatchel/tusd\tgoal\tmet")
	for _, x := range r.rows() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", x.measure, x.satchel, x.tusd, x.ratio, x.goal, x.met)
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, l := range r.runs() {
		fmt.Fprintln(w, l)
	}
}

// fsType names the file system that holds dir.
func fsType(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "file system unknown"
	}
	switch st.Type {
	case 0xEF53:
		return "ext4"
	case 0x01021994:
		return "tmpfs"
	case 0x58465342:
		return "xfs"
	case 0x9123683E:
		return "btrfs"
	}
	return fmt.Sprintf("file system 0x%x", st.Type)
}

func (r *report) markdown() string {
	o := r.opts
	var b strings.Builder
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	fmt.Fprintf(&b, "# Upload benchmark: Satchel vs tusd %s\n\n", o.tusdVersion)
	order := "satchel, tusd, satchel, tusd, ..."
	if o.tusdFirst {
		order = "tusd, satchel, tusd, satchel, ..."
	}
	fmt.Fprintf(&b, "Produced by `bench/upload.sh` (mode: %s, measures: %s). Both servers ran on this machine, on 127.0.0.1,\n", o.mode, o.phases)
	fmt.Fprintf(&b, "each with a fresh data dir on the same disk, and were measured alternately (%s).\n", order)
	fmt.Fprintf(&b, "The figures are what one run printed; they are not assertions.\n\n")
	fmt.Fprintf(&b, "- date: %s\n", r.started.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- `nproc`: %s; CPU: %s; kernel %s; %s\n", o.nproc, benchkit.CPUModel(), strings.TrimSpace(string(kernel)), runtime.Version())
	fmt.Fprintf(&b, "- satchel %s: %s + tusd filestore + in-process locker, public key on every request, streaming SHA-256, a database commit for every upload (group commit: rows and files written by concurrent uploads share transactions)\n", o.satchelRev, o.satchelDB)
	fmt.Fprintf(&b, "- tusd %s: the standalone binary, filestore, its default file locker, `-verbose=false`\n", o.tusdVersion)
	fmt.Fprintf(&b, "- data dirs: %s (%s)\n", filepath.Dir(filepath.Clean(o.satchelData)), fsType(o.satchelData))
	fmt.Fprintf(&b, "- sizes: large upload %s; %d uploads in (2) and (3)\n\n", human(o.size), o.n)
	fmt.Fprintln(&b, "| measure | satchel | tusd | satchel/tusd | goal | met |")
	fmt.Fprintln(&b, "|---|---:|---:|---:|---|---|")
	for _, x := range r.rows() {
		m := x.measure
		if strings.HasPrefix(m, "    ") {
			m = "&nbsp;&nbsp;" + strings.TrimSpace(m)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", m, x.satchel, x.tusd, x.ratio, x.goal, x.met)
	}
	fmt.Fprintln(&b, "\nEvery run, in order (after an unmeasured warm-up of each server):")
	fmt.Fprintln(&b)
	for _, l := range r.runs() {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	fmt.Fprintln(&b, `
Notes:
- MB/s is 10^6 bytes per second over the whole upload (POST creation + the PATCH
  and its response, which for Satchel includes the digest and the database commit).
- Server CPU time is user+system time of the server process (/proc/<pid>/stat)
  during the run: less disturbed than wall time when the machine is shared.
- RSS is VmRSS of the server process, sampled every 20 ms; "idle" is taken just
  before the run, "peak minus idle" is that of the run where it was largest.
- (2) is preceded by one unmeasured round of the same uploads on each server.
- (3) creates every upload before any PATCH is sent, and no upload gets its last
  chunk before all got their first 15: all are open at once. Each of the
  connections cycles round-robin over its share of the uploads.
- Each large upload is checked (HEAD: Upload-Offset = size; for Satchel also the
  File's size and sha256 through GraphQL), then deleted (tus termination on
  tusd, GraphQL deleteFile on Satchel). Dirty pages are synced before each run
  of (1) and (3).
- Just before each run of (1) and (3) the driver writes and deletes a scratch
  file of the run's size: this VM returns freed memory to its host within
  moments, and writing to such pages is several times slower, which otherwise
  hit one server or the other at random (see prefault in the driver).`)
	if fsType(o.satchelData) == "ext4" {
		fmt.Fprintln(&b, `- The data dirs were on ext4. Where it has no journal (as on the VM this
  benchmark was written on), creating a file skips, one by one, every inode
  deleted in the last 1 to 6 minutes (ext4's recently_deleted): (2) and (3),
  where both servers create and delete many small files (tusd its lock files,
  Satchel the digest states of uploads sent in several PATCHes), then vary several-fold from run to run, with
  whatever else the machine deleted lately. BENCH_DATA_DIR=/dev/shm runs both
  servers on tmpfs instead.`)
	}
	return b.String()
}

// --- report of (5) ---------------------------------------------------------------

func medianOf[T any](xs []T, f func(T) float64) float64 {
	v := make([]float64, len(xs))
	for i, x := range xs {
		v[i] = f(x)
	}
	return median(v)
}

// mpRow is one line of the multipart table.
type mpRow struct{ measure, mp, tus, ratio string }

func (r *report) multipartRows() []mpRow {
	o := r.opts
	f1 := func(v float64) string { return fmt.Sprintf("%.1f", v) }
	f2 := func(v float64) string { return fmt.Sprintf("%.2f", v) }
	mb := func(x mpResult) float64 { return x.mbps() }
	tmb := func(x bigResult) float64 { return x.mbps() }
	sec := func(x mpResult) float64 { return x.dur.Seconds() }
	tsec := func(x bigResult) float64 { return x.dur.Seconds() }
	cpu := func(x mpResult) float64 { return x.cpu.Seconds() }
	tcpu := func(x bigResult) float64 { return x.cpu.Seconds() }
	var mrss, trss []rssStats
	for _, x := range r.mp {
		mrss = append(mrss, x.rss)
	}
	for _, x := range r.mpTus {
		trss = append(trss, x.rss)
	}
	mw, tw := worstRSS(mrss), worstRSS(trss)
	m, t := medianOf(r.mp, mb), medianOf(r.mpTus, tmb)
	rows := []mpRow{
		{fmt.Sprintf("(5) %s: %d parts of 5 MiB, %d in flight, vs one tus POST + PATCH: MB/s, median of %d", human(o.size), r.mp[0].parts, o.partWorkers, len(r.mp)),
			f1(m), f1(t), ratio(m, t)},
		{"    same in MiB/s", f1(medianOf(r.mp, mpResult.mibps)), f1(medianOf(r.mpTus, bigResult.mibps)), ratio(medianOf(r.mp, mpResult.mibps), medianOf(r.mpTus, bigResult.mibps))},
		{"    time, s (median)", f2(medianOf(r.mp, sec)), f2(medianOf(r.mpTus, tsec)), ratio(medianOf(r.mp, sec), medianOf(r.mpTus, tsec))},
		{"    server CPU time, s (median)", f2(medianOf(r.mp, cpu)), f2(medianOf(r.mpTus, tcpu)), ratio(medianOf(r.mp, cpu), medianOf(r.mpTus, tcpu))},
		{"    server RSS peak minus idle, MiB (worst run)", mi(mw.delta()), mi(tw.delta()), ""},
	}
	if len(r.mpInline) > 0 {
		inl := medianOf(r.mpInline, mb)
		rows = append(rows,
			mpRow{fmt.Sprintf("(5b) multipart, each part completed by its worker right after its PUT: MB/s, median of %d", len(r.mpInline)), f1(inl), f1(t), ratio(inl, t)},
			mpRow{"    time, s (median)", f2(medianOf(r.mpInline, sec)), f2(medianOf(r.mpTus, tsec)), ratio(medianOf(r.mpInline, sec), medianOf(r.mpTus, tsec))},
			mpRow{"    server CPU time, s (median)", f2(medianOf(r.mpInline, cpu)), f2(medianOf(r.mpTus, tcpu)), ratio(medianOf(r.mpInline, cpu), medianOf(r.mpTus, tcpu))},
		)
	}
	return rows
}

// multipartSteps is the median time of each step of (5), in seconds.
func (r *report) multipartSteps() []mpRow {
	f := func(xs []mpResult, g func(mpResult) time.Duration) string {
		return fmt.Sprintf("%.2f", medianOf(xs, func(x mpResult) float64 { return g(x).Seconds() }))
	}
	rows := []mpRow{
		{"beginMultipartUpload", f(r.mp, func(x mpResult) time.Duration { return x.begin }), "", ""},
		{"uploadPart + PUT of every part", f(r.mp, func(x mpResult) time.Duration { return x.puts }), "", ""},
		{"completeUploadPart of all but the last part, one after another", f(r.mp, func(x mpResult) time.Duration { return x.completes }), "", ""},
		{"the last completeUploadPart (assembly: concatenation, SHA-256, commit)", f(r.mp, func(x mpResult) time.Duration { return x.last }), "", ""},
	}
	if len(r.mpInline) > 0 {
		rows[0].tus = f(r.mpInline, func(x mpResult) time.Duration { return x.begin })
		rows[1].measure = "uploadPart + PUT of every part (5b: and its completeUploadPart)"
		rows[1].tus = f(r.mpInline, func(x mpResult) time.Duration { return x.puts })
		rows[2].tus = "-"
		rows[3].tus = f(r.mpInline, func(x mpResult) time.Duration { return x.last }) + " (within the above)"
	}
	return rows
}

func (r *report) multipartRuns() []string {
	var out []string
	for i := range r.mp {
		l := fmt.Sprintf("(5) run %d: multipart %.1f MB/s (%s; CPU %.2f s, RSS %s -> %s)", i+1,
			r.mp[i].mbps(), r.mp[i].phases(), r.mp[i].cpu.Seconds(), kib(r.mp[i].rss.idle), kib(r.mp[i].rss.peak))
		if i < len(r.mpInline) {
			l += fmt.Sprintf("; inline completes %.1f MB/s (%s; CPU %.2f s, RSS %s -> %s)",
				r.mpInline[i].mbps(), r.mpInline[i].phases(), r.mpInline[i].cpu.Seconds(), kib(r.mpInline[i].rss.idle), kib(r.mpInline[i].rss.peak))
		}
		if i < len(r.mpTus) {
			l += fmt.Sprintf("; one PATCH %.1f MB/s (%.2f s, CPU %.2f s, RSS %s -> %s)",
				r.mpTus[i].mbps(), r.mpTus[i].dur.Seconds(), r.mpTus[i].cpu.Seconds(), kib(r.mpTus[i].rss.idle), kib(r.mpTus[i].rss.peak))
		}
		out = append(out, l)
	}
	return append(out, fmt.Sprintf("machine: load average %s at the start, %s at the end; other processes and kernel threads used %.1f s of CPU during the %.0f s run (%.0f%% of one core)",
		r.load[0], r.load[1], r.others.Seconds(), r.wall.Seconds(), 100*r.others.Seconds()/r.wall.Seconds()))
}

func (r *report) multipartText(w io.Writer) {
	fmt.Fprintf(w, "%s\n\n", r.title("Multipart upload benchmark"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measure (Satchel)\tmultipart\tone PATCH\tmultipart/PATCH")
	for _, x := range r.multipartRows() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.measure, x.mp, x.tus, x.ratio)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(r.mpInline) > 0 {
		fmt.Fprintln(tw, "multipart step, s (median)\t(5)\t(5b)")
	} else {
		fmt.Fprintln(tw, "multipart step, s (median)\t(5)")
	}
	for _, x := range r.multipartSteps() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", x.measure, x.mp, x.tus)
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, l := range r.multipartRuns() {
		fmt.Fprintln(w, l)
	}
}

func (r *report) multipartMarkdown() string {
	o := r.opts
	var b strings.Builder
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	fmt.Fprintf(&b, "# Multipart upload benchmark: %s in 5 MiB parts vs one tus PATCH (Satchel)\n\n", human(o.size))
	fmt.Fprintf(&b, "Produced by `bench/upload.sh` with measure (5) (`make bench-multipart`, mode: %s). Satchel ran on this\n", o.mode)
	fmt.Fprintf(&b, "machine, on 127.0.0.1, with a fresh data dir; the clients were measured in turn on the same server\n")
	fmt.Fprintf(&b, "(multipart, multipart with inline completes, one PATCH; the order turns by one each run).\n")
	fmt.Fprintf(&b, "The figures are what one run printed; they are not assertions.\n\n")
	fmt.Fprintf(&b, "- date: %s\n", r.started.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- `nproc`: %s; CPU: %s; kernel %s; %s\n", o.nproc, benchkit.CPUModel(), strings.TrimSpace(string(kernel)), runtime.Version())
	fmt.Fprintf(&b, "- satchel %s: %s + tusd filestore + in-process locker, public key\n", o.satchelRev, o.satchelDB)
	fmt.Fprintf(&b, "- data dir: %s (%s); source file %s of random bytes, read from the page cache\n\n", filepath.Dir(filepath.Clean(o.satchelData)), fsType(o.satchelData), human(o.size))
	fmt.Fprintln(&b, "| measure | multipart | one PATCH | multipart/PATCH |")
	fmt.Fprintln(&b, "|---|---:|---:|---:|")
	for _, x := range r.multipartRows() {
		m := x.measure
		if strings.HasPrefix(m, "    ") {
			m = "&nbsp;&nbsp;" + strings.TrimSpace(m)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", m, x.mp, x.tus, x.ratio)
	}
	fmt.Fprintln(&b)
	if len(r.mpInline) > 0 {
		fmt.Fprintln(&b, "| multipart step, s (median) | (5) | (5b) |")
		fmt.Fprintln(&b, "|---|---:|---:|")
	} else {
		fmt.Fprintln(&b, "| multipart step, s (median) | (5) |")
		fmt.Fprintln(&b, "|---|---:|")
	}
	for _, x := range r.multipartSteps() {
		if len(r.mpInline) > 0 {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", x.measure, x.mp, x.tus)
		} else {
			fmt.Fprintf(&b, "| %s | %s |\n", x.measure, x.mp)
		}
	}
	fmt.Fprintln(&b, "\nEvery run, in order (after an unmeasured warm-up):")
	fmt.Fprintln(&b)
	for _, l := range r.multipartRuns() {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	fmt.Fprintf(&b, `
Notes:
- The multipart client is an Upload.io-style one, public key throughout:
  `+"`beginMultipartUpload(input: {fileName, fileSize, mime})`"+` (which returns part 0), then %d
  workers each take the next part, ask `+"`uploadPart(fileId, uploadPartIndex)`"+` for its
  `+"`uploadUrl`"+` and range, and PUT the part's bytes (an io.SectionReader of the file,
  Content-Length = the part's size), keeping the ETag; then `+"`completeUploadPart`"+` for each
  part in order, one at a time. The last returns `+"`file { id size sha256 }`"+`: the time runs from
  the begin mutation to that answer, and size and sha256 are checked against the source.
- (5b) is the same client except that each worker completes its part right after its PUT
  (the completions overlap the other PUTs); whichever completion comes last returns the file.
- One PATCH is measure (1) of this benchmark on the same server: tus POST, then one PATCH
  streaming the whole file (sendfile), timed to the PATCH's answer (Satchel commits the File
  before answering); then HEAD (Upload-Offset = size) and the File's size and sha256.
- MB/s is 10^6 bytes per second over the whole upload. Server CPU time is user+system time of
  the server process during the upload. RSS is VmRSS, sampled every 20 ms.
- Before each upload, dirty pages are synced and a scratch file of the upload's size is
  written and deleted (see prefault in the driver); after it, the File is deleted.
`, o.partWorkers)
	return b.String()
}
