package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"satchel/bench/internal/benchkit"
)

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

	if o.gatewayPID > 0 {
		if _, err := readRSS(o.gatewayPID); err != nil {
			return fmt.Errorf("gateway: %w", err)
		}
	}
	watched[sat.pid] = watch{tmpDir: o.satchelTmp, gatewayPID: o.gatewayPID}
	if tusd != nil {
		watched[tusd.pid] = watch{tmpDir: o.tusdTmp, gatewayPID: o.gatewayPID}
	}

	sum, err := ensureFile(o.file, o.size)
	if err != nil {
		return err
	}
	benchkit.Logf("source file %s: %s, sha256 %s", o.file, human(o.size), sum[:16]+"...")

	rep := &report{opts: o, started: time.Now(), load: [2]string{benchkit.LoadAvg()}}
	busy0, self0, sat0, tusd0, gw0 := machineBusy(), benchkit.CPUTime("self"), sat.cpu(), tusd.cpu(), gatewayCPU(o.gatewayPID)

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
			benchkit.Logf("1 big upload     %-7s run %d: %7.1f MB/s  (%v, server CPU %v%s; RSS idle %s, peak %s%s)", t.name, i+1, r.mbps(), r.dur.Round(time.Millisecond), r.cpu, o.gwLog(r.rss.gwCPU), kib(r.rss.idle), kib(r.rss.peak), tmpLog(t, r.rss))
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
			benchkit.Logf("2 creation+body  %-7s run %d: %7.1f uploads/s  (%d in %v, server CPU %v%s, %d errors%s)", t.name, i+1, r.rate(), r.n, r.dur.Round(time.Millisecond), r.cpu, o.gwLog(r.gwCPU), r.errs, db)
			rep.small[idx(t)] = append(rep.small[idx(t)], r)
		}
	}
	// (3) + (4b): many uploads open at once.
	for i := range o.runsOf('3') {
		for _, t := range targets {
			r := openUploads(t, o.n, o.workers, o.scratchDir)
			benchkit.Logf("3 open uploads   %-7s run %d: %d uploads, %d errors, %v  (server CPU %v%s; RSS idle %s, peak %s%s)", t.name, i+1, r.n, r.errs, r.dur.Round(time.Millisecond), r.cpu, o.gwLog(r.rss.gwCPU), kib(r.rss.idle), kib(r.rss.peak), tmpLog(t, r.rss))
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
				benchkit.Logf("5 multipart      %-7s run %d: %7.1f MB/s  (%s; server CPU %v%s; RSS idle %s, peak %s%s)", mpName(inline), i+1, r.mbps(), r.phases(), r.cpu, o.gwLog(r.rss.gwCPU), kib(r.rss.idle), kib(r.rss.peak), tmpLog(sat, r.rss))
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
				benchkit.Logf("5 one PATCH      %-7s run %d: %7.1f MB/s  (%v, server CPU %v%s; RSS idle %s, peak %s%s)", sat.name, i+1, r.mbps(), r.dur.Round(time.Millisecond), r.cpu, o.gwLog(r.rss.gwCPU), kib(r.rss.idle), kib(r.rss.peak), tmpLog(sat, r.rss))
				rep.mpTus = append(rep.mpTus, r)
			}
		}
	}

	rep.wall = time.Since(rep.started)
	rep.load[1] = benchkit.LoadAvg()
	rep.gateway = gatewayCPU(o.gatewayPID) - gw0
	rep.others = machineBusy() - busy0 - (benchkit.CPUTime("self") - self0) - (sat.cpu() - sat0) - (tusd.cpu() - tusd0) - rep.gateway
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

// gwLog is the gateway's CPU time for a log line ("" without a gateway).
func (o options) gwLog(d time.Duration) string {
	if o.gatewayPID <= 0 {
		return ""
	}
	return fmt.Sprintf(", gateway CPU %v", d)
}

// tmpLog is the peak of the server's temp dir for a log line ("" when it
// is not watched).
func tmpLog(t *target, r rssStats) string {
	if watched[t.pid].tmpDir == "" {
		return ""
	}
	return "; temp dir peak " + inMiB(r.tmpPeak)
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
