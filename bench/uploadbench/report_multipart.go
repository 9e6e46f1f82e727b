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
