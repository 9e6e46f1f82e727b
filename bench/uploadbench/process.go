package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"satchel/bench/internal/benchkit"
)

// sampleRSS is how often the server's VmRSS is read.
const sampleRSS = 20 * time.Millisecond

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

// rssStats are in KiB. The sampler that takes them also follows, over the
// same span, what watched names for the server: the peak of its temp dir
// and the CPU time of the S3 gateway, and the driver's own CPU time.
type rssStats struct {
	idle, peak int64
	samples    int
	// tmpPeak is the largest total size, in bytes, of the files under the
	// server's temp dir at any sample (S3: the parts it buffers on disk).
	tmpPeak int64
	// gwCPU is the gateway's CPU time, selfCPU the driver's.
	gwCPU, selfCPU time.Duration
}

// watch is what the sampler follows beside a server's RSS.
type watch struct {
	tmpDir     string // the server's temp dir ("" for none)
	gatewayPID int    // the S3 gateway's process ID (0 for none)
}

// watched is, by server pid, what the sampler follows beside it; filled by
// run before the first measure and only read afterwards.
var watched = map[int]watch{}

// gatewayCPU is the S3 gateway's CPU time so far (0 without one).
func gatewayCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	return benchkit.CPUTime(strconv.Itoa(pid))
}

// dirBytes is the total size of the regular files under dir.
func dirBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
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

// sampler records the peak VmRSS of pid every 20 ms until stopped, and
// what watched names for pid.
type sampler struct {
	pid     int
	w       watch
	peak    atomic.Int64
	tmpPeak atomic.Int64
	samples atomic.Int64
	gw0     time.Duration
	self0   time.Duration
	stop    chan struct{}
	done    chan struct{}
}

func startSampler(pid int) *sampler {
	s := &sampler{pid: pid, w: watched[pid], stop: make(chan struct{}), done: make(chan struct{})}
	s.gw0, s.self0 = gatewayCPU(s.w.gatewayPID), benchkit.CPUTime("self")
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
		storeMax(&s.peak, v)
	}
	if s.w.tmpDir != "" {
		storeMax(&s.tmpPeak, dirBytes(s.w.tmpDir))
	}
}

func storeMax(a *atomic.Int64, v int64) {
	for {
		p := a.Load()
		if v <= p || a.CompareAndSwap(p, v) {
			return
		}
	}
}

func (s *sampler) finish(idle int64) rssStats {
	s.sample()
	close(s.stop)
	<-s.done
	return rssStats{idle: idle, peak: s.peak.Load(), samples: int(s.samples.Load()), tmpPeak: s.tmpPeak.Load(),
		gwCPU: gatewayCPU(s.w.gatewayPID) - s.gw0, selfCPU: benchkit.CPUTime("self") - s.self0}
}
