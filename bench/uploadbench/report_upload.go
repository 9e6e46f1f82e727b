package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"satchel/bench/internal/benchkit"
)

// row is one line of the results table.
type row struct {
	measure, satchel, tusd, ratio, goal, met string
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
	rows = append(rows, r.bigCPURows(r.big, o.size)...)
	if r.tmp() {
		var tp [2]int64
		for i := range 2 {
			for _, x := range r.big[i] {
				tp[i] = max(tp[i], x.rss.tmpPeak)
			}
		}
		x := row{"    peak size of the server's temp dir (buffered parts), MiB, largest run",
			fmt.Sprintf("%.1f", float64(tp[0])/(1<<20)), fmt.Sprintf("%.1f", float64(tp[1])/(1<<20)), ratio(float64(tp[0]), float64(tp[1])), "", ""}
		if o.tmpBound > 0 {
			x.goal, x.met = fmt.Sprintf("Satchel <= %s", human(o.tmpBound)), benchkit.Yes(tp[0] <= o.tmpBound)
		}
		rows = append(rows, x)
	}
	return rows, rssRows("(1)", bigRSS, "Satchel < 64 MiB", bigRSS[0].delta() < 64<<10)
}

// bigCPURows are the CPU times per GiB of a large upload, median of the
// runs: the server's, the gateway's (S3) and the driver's, so that the
// reader sees who was busy and that the client was not the bottleneck.
func (r *report) bigCPURows(runs [2][]bigResult, size int64) []row {
	var srv, gw, self [2]float64
	for i := range 2 {
		var a, b, c []float64
		for _, x := range runs[i] {
			a = append(a, perGiB(x.cpu, size))
			b = append(b, perGiB(x.rss.gwCPU, size))
			c = append(c, perGiB(x.rss.selfCPU, size))
		}
		srv[i], gw[i], self[i] = median(a), median(b), median(c)
	}
	f := func(v float64) string { return fmt.Sprintf("%.2f", v) }
	rows := []row{{"    server CPU time, s per GiB (median)", f(srv[0]), f(srv[1]), ratio(srv[0], srv[1]), "", ""}}
	if r.gw() {
		rows = append(rows, row{"    S3 gateway's CPU time while serving that server, s per GiB (median)", f(gw[0]), f(gw[1]), ratio(gw[0], gw[1]), "", ""})
	}
	return append(rows, row{"    the driver's (client's) CPU time, s per GiB (median)", f(self[0]), f(self[1]), ratio(self[0], self[1]), "", ""})
}

func (r *report) smallRows() []row {
	o := r.opts
	var rate, smallCPU, gwCPU, selfCPU [2]float64
	var serr [2]int
	for i := range 2 {
		var a, c, g, d []float64
		for _, x := range r.small[i] {
			a = append(a, x.rate())
			c = append(c, x.cpu.Seconds()*1000/float64(x.n))
			g = append(g, x.gwCPU.Seconds()*1000/float64(x.n))
			d = append(d, x.selfCPU.Seconds()*1000/float64(x.n))
			serr[i] += x.errs
		}
		rate[i], smallCPU[i], gwCPU[i], selfCPU[i] = median(a), median(c), median(g), median(d)
	}
	var st, bt []float64
	for _, x := range r.small[0] {
		if x.commits > 0 {
			st = append(st, x.statements/float64(x.n))
			bt = append(bt, x.writes/x.commits)
		}
	}
	stmts, batch := median(st), median(bt)
	f := func(v float64) string { return fmt.Sprintf("%.2f", v) }
	rows := []row{
		{fmt.Sprintf("(2) %d creation-with-upload (16 KiB), %d in flight: uploads/s, median of %d", o.n, o.concurrency, o.runs),
			fmt.Sprintf("%.0f", rate[0]), fmt.Sprintf("%.0f", rate[1]), ratio(rate[0], rate[1]), fmt.Sprintf(">= %.2gx tusd", o.smallGoal), benchkit.Yes(rate[0] >= o.smallGoal*rate[1])},
		{"    server CPU time per upload, ms (median)", f(smallCPU[0]), f(smallCPU[1]), ratio(smallCPU[0], smallCPU[1]), "", ""},
	}
	if r.gw() {
		rows = append(rows, row{"    S3 gateway's CPU time per upload of that server, ms (median)", f(gwCPU[0]), f(gwCPU[1]), ratio(gwCPU[0], gwCPU[1]), "", ""})
	}
	return append(rows, []row{
		{"    the driver's (client's) CPU time per upload, ms (median)", f(selfCPU[0]), f(selfCPU[1]), ratio(selfCPU[0], selfCPU[1]), "", ""},
		{"    errors (all runs)", strconv.Itoa(serr[0]), strconv.Itoa(serr[1]), "", "0", benchkit.Yes(serr[0] == 0)},
		{"    Satchel's SQL statements per upload (median)", fmt.Sprintf("%.1f", stmts), "", "", "", ""},
		{"    Satchel's writes per transaction of its group commit (median)", fmt.Sprintf("%.1f", batch), "", "", "", ""},
	}...)
}

// openRows reports the worst run of each server.
func (r *report) openRows() (rows, rss []row) {
	o := r.opts
	var oerr, opened [2]int
	var odur, ocpu, ogw [2]time.Duration
	var openRSS [2]rssStats
	for i := range 2 {
		var rs []rssStats
		opened[i] = o.n
		for _, x := range r.open[i] {
			oerr[i] += x.errs
			odur[i] = max(odur[i], x.dur)
			ocpu[i] = max(ocpu[i], x.cpu)
			ogw[i] = max(ogw[i], x.rss.gwCPU)
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
	if r.gw() {
		rows = append(rows, row{"    S3 gateway's CPU time while serving that server, s" + runsNote, fmt.Sprintf("%.2f", ogw[0].Seconds()), fmt.Sprintf("%.2f", ogw[1].Seconds()),
			ratio(ogw[0].Seconds(), ogw[1].Seconds()), "", ""})
	}
	return rows, rssRows("(3)", openRSS, "", false)
}

// runs lists every run, in the order they were made.
func (r *report) runs() []string {
	var out []string
	for i := range r.big[0] {
		out = append(out, fmt.Sprintf("(1) run %d: satchel %.1f MB/s (%.2f s, CPU %.2f s%s, RSS %s -> %s%s), tusd %.1f MB/s (%.2f s, CPU %.2f s%s, RSS %s -> %s%s)", i+1,
			r.big[0][i].mbps(), r.big[0][i].dur.Seconds(), r.big[0][i].cpu.Seconds(), r.gwNote(r.big[0][i].rss.gwCPU), kib(r.big[0][i].rss.idle), kib(r.big[0][i].rss.peak), r.tmpNote(r.big[0][i].rss),
			r.big[1][i].mbps(), r.big[1][i].dur.Seconds(), r.big[1][i].cpu.Seconds(), r.gwNote(r.big[1][i].rss.gwCPU), kib(r.big[1][i].rss.idle), kib(r.big[1][i].rss.peak), r.tmpNote(r.big[1][i].rss)))
	}
	for i := range r.small[0] {
		out = append(out, fmt.Sprintf("(2) run %d: satchel %.0f uploads/s (%.2f s, CPU %.2f s%s, %d errors), tusd %.0f uploads/s (%.2f s, CPU %.2f s%s, %d errors)", i+1,
			r.small[0][i].rate(), r.small[0][i].dur.Seconds(), r.small[0][i].cpu.Seconds(), r.gwNote(r.small[0][i].gwCPU), r.small[0][i].errs,
			r.small[1][i].rate(), r.small[1][i].dur.Seconds(), r.small[1][i].cpu.Seconds(), r.gwNote(r.small[1][i].gwCPU), r.small[1][i].errs))
	}
	for i := range r.open[0] {
		out = append(out, fmt.Sprintf("(3) run %d: satchel %.2f s, CPU %.2f s%s, %d errors (RSS %s -> %s%s), tusd %.2f s, CPU %.2f s%s, %d errors (RSS %s -> %s%s)", i+1,
			r.open[0][i].dur.Seconds(), r.open[0][i].cpu.Seconds(), r.gwNote(r.open[0][i].rss.gwCPU), r.open[0][i].errs, kib(r.open[0][i].rss.idle), kib(r.open[0][i].rss.peak), r.tmpNote(r.open[0][i].rss),
			r.open[1][i].dur.Seconds(), r.open[1][i].cpu.Seconds(), r.gwNote(r.open[1][i].rss.gwCPU), r.open[1][i].errs, kib(r.open[1][i].rss.idle), kib(r.open[1][i].rss.peak), r.tmpNote(r.open[1][i].rss)))
	}
	return append(out, r.machineLine())
}

// gwNote is the gateway's CPU time for a line of runs ("" without one).
func (r *report) gwNote(d time.Duration) string {
	if !r.gw() {
		return ""
	}
	return fmt.Sprintf(", gateway CPU %.2f s", d.Seconds())
}

// tmpNote is the peak of a server's temp dir for a line of runs.
func (r *report) tmpNote(x rssStats) string {
	if !r.tmp() {
		return ""
	}
	return "; temp dir peak " + inMiB(x.tmpPeak)
}

// machineLine says how busy the machine was besides the measured processes.
func (r *report) machineLine() string {
	gw := ""
	if r.gw() {
		gw = fmt.Sprintf("; the S3 gateway used %.1f s of CPU in all", r.gateway.Seconds())
	}
	return fmt.Sprintf("machine: load average %s at the start, %s at the end; other processes and kernel threads used %.1f s of CPU during the %.0f s run (%.0f%% of one core)%s",
		r.load[0], r.load[1], r.others.Seconds(), r.wall.Seconds(), 100*r.others.Seconds()/r.wall.Seconds(), gw)
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

func (r *report) markdown() string {
	o := r.opts
	var b strings.Builder
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	fmt.Fprintf(&b, "# Upload benchmark: Satchel vs tusd %s\n\n", o.tusdVersion)
	order := "satchel, tusd, satchel, tusd, ..."
	if o.tusdFirst {
		order = "tusd, satchel, tusd, satchel, ..."
	}
	fmt.Fprintf(&b, "Produced by `bench/upload.sh` (mode: %s, measures: %s, store: %s). Both servers ran on this machine, on 127.0.0.1,\n", o.mode, o.phases, o.store)
	fmt.Fprintf(&b, "each with a fresh data dir on the same disk, and were measured alternately (%s).\n", order)
	fmt.Fprintf(&b, "The figures are what one run printed; they are not assertions.\n\n")
	fmt.Fprintf(&b, "- date: %s\n", r.started.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- `nproc`: %s; CPU: %s; kernel %s; %s\n", o.nproc, benchkit.CPUModel(), strings.TrimSpace(string(kernel)), runtime.Version())
	satStore, tusdStore := "tusd filestore + in-process locker", "filestore, its default file locker"
	if o.satchelStore != "" {
		satStore = o.satchelStore
	}
	if o.tusdStore != "" {
		tusdStore = o.tusdStore
	}
	fmt.Fprintf(&b, "- satchel %s: %s + %s, public key on every request, streaming SHA-256, a database commit for every upload (group commit: rows and files written by concurrent uploads share transactions)\n", o.satchelRev, o.satchelDB, satStore)
	fmt.Fprintf(&b, "- tusd %s: the standalone binary, %s, `-verbose=false`\n", o.tusdVersion, tusdStore)
	if o.store != "filestore" {
		fmt.Fprintf(&b, "- store: %s\n", o.store)
	}
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
  The driver's (the client's) CPU time is taken the same way over the same
  span, and with an S3 store the gateway's too (one gateway serves both
  servers, one at a time).
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
