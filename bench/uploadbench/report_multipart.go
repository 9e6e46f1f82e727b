package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"satchel/bench/internal/benchkit"
)

// mpRow is one line of the multipart table.
type mpRow struct{ measure, mp, tus, ratio, goal, met string }

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
	// Per GiB: the server's, the gateway's (S3) and the driver's CPU time.
	gib := func(d time.Duration) float64 { return perGiB(d, o.size) }
	cpuG := func(x mpResult) float64 { return gib(x.cpu) }
	tcpuG := func(x bigResult) float64 { return gib(x.cpu) }
	gwG := func(x mpResult) float64 { return gib(x.rss.gwCPU) }
	tgwG := func(x bigResult) float64 { return gib(x.rss.gwCPU) }
	selfG := func(x mpResult) float64 { return gib(x.rss.selfCPU) }
	tselfG := func(x bigResult) float64 { return gib(x.rss.selfCPU) }
	perGiBRows := func(mps []mpResult) []mpRow {
		rows := []mpRow{{measure: "    server CPU time, s per GiB (median)", mp: f2(medianOf(mps, cpuG)), tus: f2(medianOf(r.mpTus, tcpuG)), ratio: ratio(medianOf(mps, cpuG), medianOf(r.mpTus, tcpuG))}}
		if r.gw() {
			rows = append(rows, mpRow{measure: "    S3 gateway's CPU time, s per GiB (median)", mp: f2(medianOf(mps, gwG)), tus: f2(medianOf(r.mpTus, tgwG)), ratio: ratio(medianOf(mps, gwG), medianOf(r.mpTus, tgwG))})
		}
		return append(rows, mpRow{measure: "    the driver's (client's) CPU time, s per GiB (median)", mp: f2(medianOf(mps, selfG)), tus: f2(medianOf(r.mpTus, tselfG)), ratio: ratio(medianOf(mps, selfG), medianOf(r.mpTus, tselfG))})
	}
	rows := []mpRow{
		{fmt.Sprintf("(5) %s: %d parts of 5 MiB, %d in flight, vs one tus POST + PATCH: MB/s, median of %d", human(o.size), r.mp[0].parts, o.partWorkers, len(r.mp)),
			f1(m), f1(t), ratio(m, t), ">= 1.0x one PATCH", benchkit.Yes(m >= t)},
		{measure: "    same in MiB/s", mp: f1(medianOf(r.mp, mpResult.mibps)), tus: f1(medianOf(r.mpTus, bigResult.mibps)), ratio: ratio(medianOf(r.mp, mpResult.mibps), medianOf(r.mpTus, bigResult.mibps))},
		{measure: "    time, s (median)", mp: f2(medianOf(r.mp, sec)), tus: f2(medianOf(r.mpTus, tsec)), ratio: ratio(medianOf(r.mp, sec), medianOf(r.mpTus, tsec))},
		{measure: "    server CPU time, s (median)", mp: f2(medianOf(r.mp, cpu)), tus: f2(medianOf(r.mpTus, tcpu)), ratio: ratio(medianOf(r.mp, cpu), medianOf(r.mpTus, tcpu))},
	}
	rows = append(rows, perGiBRows(r.mp)...)
	rows = append(rows, mpRow{measure: "    server RSS peak minus idle, MiB (worst run)", mp: mi(mw.delta()), tus: mi(tw.delta())})
	if r.tmp() {
		var mt, tt int64
		for _, x := range r.mp {
			mt = max(mt, x.rss.tmpPeak)
		}
		for _, x := range r.mpTus {
			tt = max(tt, x.rss.tmpPeak)
		}
		rows = append(rows, mpRow{measure: "    peak size of the server's temp dir, MiB (largest run)", mp: fmt.Sprintf("%.1f", float64(mt)/(1<<20)), tus: fmt.Sprintf("%.1f", float64(tt)/(1<<20))})
	}
	if len(r.mpInline) > 0 {
		inl := medianOf(r.mpInline, mb)
		rows = append(rows,
			mpRow{fmt.Sprintf("(5b) multipart, each part completed by its worker right after its PUT: MB/s, median of %d", len(r.mpInline)), f1(inl), f1(t), ratio(inl, t), ">= 1.0x one PATCH", benchkit.Yes(inl >= t)},
			mpRow{measure: "    time, s (median)", mp: f2(medianOf(r.mpInline, sec)), tus: f2(medianOf(r.mpTus, tsec)), ratio: ratio(medianOf(r.mpInline, sec), medianOf(r.mpTus, tsec))},
			mpRow{measure: "    server CPU time, s (median)", mp: f2(medianOf(r.mpInline, cpu)), tus: f2(medianOf(r.mpTus, tcpu)), ratio: ratio(medianOf(r.mpInline, cpu), medianOf(r.mpTus, tcpu))},
		)
		rows = append(rows, perGiBRows(r.mpInline)...)
	}
	return rows
}

// multipartSteps is the median time of each step of (5), in seconds.
func (r *report) multipartSteps() []mpRow {
	f := func(xs []mpResult, g func(mpResult) time.Duration) string {
		return fmt.Sprintf("%.2f", medianOf(xs, func(x mpResult) float64 { return g(x).Seconds() }))
	}
	rows := []mpRow{
		{measure: "beginMultipartUpload", mp: f(r.mp, func(x mpResult) time.Duration { return x.begin })},
		{measure: "uploadPart + PUT of every part", mp: f(r.mp, func(x mpResult) time.Duration { return x.puts })},
		{measure: "completeUploadPart of all but the last part, one after another", mp: f(r.mp, func(x mpResult) time.Duration { return x.completes })},
		{measure: "the last completeUploadPart (assembly: concatenation, SHA-256, commit)", mp: f(r.mp, func(x mpResult) time.Duration { return x.last })},
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
		l := fmt.Sprintf("(5) run %d: multipart %.1f MB/s (%s; CPU %.2f s%s, RSS %s -> %s%s)", i+1,
			r.mp[i].mbps(), r.mp[i].phases(), r.mp[i].cpu.Seconds(), r.gwNote(r.mp[i].rss.gwCPU), kib(r.mp[i].rss.idle), kib(r.mp[i].rss.peak), r.tmpNote(r.mp[i].rss))
		if i < len(r.mpInline) {
			l += fmt.Sprintf("; inline completes %.1f MB/s (%s; CPU %.2f s%s, RSS %s -> %s%s)",
				r.mpInline[i].mbps(), r.mpInline[i].phases(), r.mpInline[i].cpu.Seconds(), r.gwNote(r.mpInline[i].rss.gwCPU), kib(r.mpInline[i].rss.idle), kib(r.mpInline[i].rss.peak), r.tmpNote(r.mpInline[i].rss))
		}
		if i < len(r.mpTus) {
			l += fmt.Sprintf("; one PATCH %.1f MB/s (%.2f s, CPU %.2f s%s, RSS %s -> %s%s)",
				r.mpTus[i].mbps(), r.mpTus[i].dur.Seconds(), r.mpTus[i].cpu.Seconds(), r.gwNote(r.mpTus[i].rss.gwCPU), kib(r.mpTus[i].rss.idle), kib(r.mpTus[i].rss.peak), r.tmpNote(r.mpTus[i].rss))
		}
		out = append(out, l)
	}
	return append(out, r.machineLine())
}

func (r *report) multipartText(w io.Writer) {
	fmt.Fprintf(w, "%s\n\n", r.title("Multipart upload benchmark"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measure (Satchel)\tmultipart\tone PATCH\tmultipart/PATCH\tgoal\tmet")
	for _, x := range r.multipartRows() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", x.measure, x.mp, x.tus, x.ratio, x.goal, x.met)
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
	fmt.Fprintf(&b, "# Multipart upload benchmark: %s in 5 MiB parts vs one tus PATCH (Satchel, %s)\n\n", human(o.size), o.store)
	fmt.Fprintf(&b, "Produced by `bench/upload.sh` with measure (5) (`make bench-multipart`, or `make bench-s3` on S3; mode: %s). Satchel ran on this\n", o.mode)
	fmt.Fprintf(&b, "machine, on 127.0.0.1, with a fresh data dir; the clients were measured in turn on the same server\n")
	fmt.Fprintf(&b, "(multipart, multipart with inline completes, one PATCH; the order turns by one each run).\n")
	fmt.Fprintf(&b, "The figures are what one run printed; they are not assertions.\n\n")
	fmt.Fprintf(&b, "- date: %s\n", r.started.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- `nproc`: %s; CPU: %s; kernel %s; %s\n", o.nproc, benchkit.CPUModel(), strings.TrimSpace(string(kernel)), runtime.Version())
	satStore := "tusd filestore + in-process locker"
	if o.satchelStore != "" {
		satStore = o.satchelStore
	}
	fmt.Fprintf(&b, "- satchel %s: %s + %s, public key\n", o.satchelRev, o.satchelDB, satStore)
	if o.store != "filestore" {
		fmt.Fprintf(&b, "- store: %s\n", o.store)
	}
	fmt.Fprintf(&b, "- data dir: %s (%s); source file %s of random bytes, read from the page cache\n\n", filepath.Dir(filepath.Clean(o.satchelData)), fsType(o.satchelData), human(o.size))
	fmt.Fprintln(&b, "| measure | multipart | one PATCH | multipart/PATCH | goal | met |")
	fmt.Fprintln(&b, "|---|---:|---:|---:|---|---|")
	for _, x := range r.multipartRows() {
		m := x.measure
		if strings.HasPrefix(m, "    ") {
			m = "&nbsp;&nbsp;" + strings.TrimSpace(m)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", m, x.mp, x.tus, x.ratio, x.goal, x.met)
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
  `+"`uploadUrl`"+` and range, and PUT the part's bytes (Content-Length = the part's size;
  sent with sendfile, as the PATCH is, over one kept-alive connection per worker), keeping the ETag; then `+"`completeUploadPart`"+` for each
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
