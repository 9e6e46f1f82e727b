package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"satchel/bench/internal/benchkit"
)

type report struct {
	opts    options
	started time.Time
	load    [2]string // load average at the start and at the end
	wall    time.Duration
	others  time.Duration // CPU time of everything but the two servers, the gateway and the driver
	gateway time.Duration // the S3 gateway's CPU time over the whole run (0 without one)
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

func mi(v int64) string { return fmt.Sprintf("%.1f", float64(v)/1024) }

// mib renders a byte count in MiB.
func inMiB(v int64) string { return fmt.Sprintf("%.1f MiB", float64(v)/(1<<20)) }

// perGiB is d per GiB of size bytes, in seconds.
func perGiB(d time.Duration, size int64) float64 { return d.Seconds() / (float64(size) / (1 << 30)) }

// gw says whether an S3 gateway's CPU time was measured.
func (r *report) gw() bool { return r.opts.gatewayPID > 0 }

// tmp says whether the servers' temp dirs were watched.
func (r *report) tmp() bool { return r.opts.satchelTmp != "" || r.opts.tusdTmp != "" }

func medianOf[T any](xs []T, f func(T) float64) float64 {
	v := make([]float64, len(xs))
	for i, x := range xs {
		v[i] = f(x)
	}
	return median(v)
}

// title names the servers compared, for the printed tables.
func (r *report) title(what string) string {
	o := r.opts
	return fmt.Sprintf("%s: satchel %s on %s, %s (%s mode)", what, o.satchelRev, o.satchelDB, o.store, o.mode)
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
