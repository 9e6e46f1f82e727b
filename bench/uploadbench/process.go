package main

import (
	"fmt"
	"os"
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
