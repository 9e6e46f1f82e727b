package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"satchel/bench/internal/benchkit"
)

type report struct {
	opts        options
	started     time.Time
	wall        time.Duration
	load        [2]string
	photoBytes  int
	thumbBytes  int
	vipsVersion string

	satchel, satchelCPU, upload []time.Duration
	vips, vipsCPU               []time.Duration
	vips1, vips1CPU             []time.Duration
	vipsBatch                   []time.Duration
	imaging                     []time.Duration
	hits                        []time.Duration
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func median(v []time.Duration) time.Duration {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// p90 is the nearest-rank 90th percentile.
func p90(v []time.Duration) time.Duration {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[int(math.Ceil(0.9*float64(len(s))))-1]
}

type row struct{ measure, median, p90, note string }

func (r *report) rows() []row {
	o := r.opts
	f := func(v []time.Duration, prec int) (string, string) {
		return strconv.FormatFloat(ms(median(v)), 'f', prec, 64), strconv.FormatFloat(ms(p90(v)), 'f', prec, 64)
	}
	var rows []row
	add := func(m string, v []time.Duration, prec int, note string) {
		a, b := f(v, prec)
		rows = append(rows, row{m, a, b, note})
	}
	add(fmt.Sprintf("(a) Satchel first render: GET /files/<id>/thumb, on demand (n=%d)", len(r.satchel)), r.satchel, 1,
		fmt.Sprintf("WebP Q%d, %d bytes; libvips in process, 1 thread per render", webpQuality, r.thumbBytes))
	add("    server CPU time during that GET", r.satchelCPU, 0, "from /proc/<pid>/stat, 10 ms ticks")
	add("    (not timed) the upload before it: POST /files/basic", r.upload, 1, fmt.Sprintf("%.1f MB, application/octet-stream", float64(r.photoBytes)/1e6))
	add(fmt.Sprintf("(b) vipsthumbnail process, -s 256 -o out.webp[Q=%d] (n=%d)", webpQuality, len(r.vips)), r.vips, 1, "end to end: fork/exec, libvips start-up, render, write")
	add("    its CPU time (user+sys)", r.vipsCPU, 0, "")
	add(fmt.Sprintf("    per image, one invocation on %d copies (n=%d invocations)", o.batch, len(r.vipsBatch)), r.vipsBatch, 1, "no process start-up: invocation time / "+strconv.Itoa(o.batch))
	add(fmt.Sprintf("    process with VIPS_CONCURRENCY=1 (n=%d)", len(r.vips1)), r.vips1, 1, "one libvips thread, as Satchel renders")
	add("    its CPU time (user+sys)", r.vips1CPU, 0, "")
	add(fmt.Sprintf("(c) imaging v1.6.2: decode, Fit 256x256 Lanczos, JPEG q%d (n=%d)", jpegQuality, len(r.imaging)), r.imaging, 1, "pure Go, in process; JPEG since Go has no WebP encoder")
	add(fmt.Sprintf("(d) cached hit: GET /files/<id>/thumb of a rendered file (n=%d)", len(r.hits)), r.hits, 3, "")
	return rows
}

type ratioRow struct{ what, value, goal, met string }

func ratio(a, b time.Duration) string { return fmt.Sprintf("%.2fx", float64(a)/float64(b)) }

func (r *report) ratios() []ratioRow {
	sat, vips, vb, v1, img, hit := median(r.satchel), median(r.vips), median(r.vipsBatch), median(r.vips1), median(r.imaging), median(r.hits)
	return []ratioRow{
		{"Satchel first render / vipsthumbnail process", ratio(sat, vips), "<= 1.3x", benchkit.Yes(float64(sat) <= 1.3*float64(vips))},
		{"Satchel first render / vipsthumbnail per image without start-up", ratio(sat, vb), "", ""},
		{"Satchel first render / vipsthumbnail process, VIPS_CONCURRENCY=1", ratio(sat, v1), "", ""},
		{"imaging / Satchel first render", ratio(img, sat), "", ""},
		{"cached hit, median", fmt.Sprintf("%.3f ms", ms(hit)), "< 2 ms", benchkit.Yes(hit < 2*time.Millisecond)},
	}
}

func (r *report) text(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measure\tmedian ms\tp90 ms\tnote")
	for _, x := range r.rows() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.measure, x.median, x.p90, x.note)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ratio (of medians)\tvalue\tgoal\tmet")
	for _, x := range r.ratios() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.what, x.value, x.goal, x.met)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nmachine: nproc %s; load average %s at the start, %s at the end; run took %.0f s\n", r.opts.nproc, r.load[0], r.load[1], r.wall.Seconds())
}

func (r *report) markdown() string {
	o := r.opts
	var b strings.Builder
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	fmt.Fprintf(&b, "# Thumbnail benchmark: Satchel vs vipsthumbnail vs imaging\n\n")
	fmt.Fprintf(&b, "Produced by `bench/thumb.sh` (`make bench-thumb`, mode: %s). Everything ran on this machine, in one run,\n", o.mode)
	fmt.Fprintf(&b, "samples of (a), (b) and (c) taken in rotation. The figures are what one run printed; they are not assertions.\n\n")
	fmt.Fprintf(&b, "- date: %s\n", r.started.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- `nproc`: %s; CPU: %s; kernel %s; %s\n", o.nproc, benchkit.CPUModel(), strings.TrimSpace(string(kernel)), runtime.Version())
	fmt.Fprintf(&b, "- load average %s at the start, %s at the end; the run took %.0f s\n", r.load[0], r.load[1], r.wall.Seconds())
	fmt.Fprintf(&b, "- satchel %s (SQLite + filestore, `SATCHEL_LOG_LEVEL=warn`, fresh data dir); %s (vipsthumbnail uses the same)\n", o.satchelRev, r.vipsVersion)
	fmt.Fprintf(&b, "- input: a generated %dx%d photo-like JPEG (sky gradient and clouds, textured ground, buildings, shaded discs, sensor noise), quality 90, %.2f MB\n", photoW, photoH, float64(r.photoBytes)/1e6)
	fmt.Fprintf(&b, "- output: %dx%d (inside %dx%d); preset `{name: \"thumb\", width: 256, height: 256, fit: INSIDE, format: WEBP}` (Q%d by default)\n\n", wantW, wantH, thumbBox, thumbBox, webpQuality)
	fmt.Fprintln(&b, "| measure | median, ms | p90, ms | note |")
	fmt.Fprintln(&b, "|---|---:|---:|---|")
	for _, x := range r.rows() {
		m := x.measure
		if strings.HasPrefix(m, "    ") {
			m = "&nbsp;&nbsp;" + strings.TrimSpace(m)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", m, x.median, x.p90, x.note)
	}
	fmt.Fprintln(&b, "\n| ratio (of medians) | value | goal | met |")
	fmt.Fprintln(&b, "|---|---:|---|---|")
	for _, x := range r.ratios() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", x.what, x.value, x.goal, x.met)
	}
	fmt.Fprintln(&b, "\nEvery sample, in ms (in order):")
	fmt.Fprintln(&b)
	list := func(name string, v []time.Duration) {
		s := make([]string, len(v))
		for i, d := range v {
			s[i] = strconv.FormatFloat(ms(d), 'f', 1, 64)
		}
		fmt.Fprintf(&b, "- %s: %s\n", name, strings.Join(s, ", "))
	}
	list("(a) Satchel first render", r.satchel)
	list("(a) server CPU during it", r.satchelCPU)
	list("(b) vipsthumbnail process", r.vips)
	list("(b) per image in one invocation on "+strconv.Itoa(o.batch)+" copies", r.vipsBatch)
	list("(b) vipsthumbnail process, VIPS_CONCURRENCY=1", r.vips1)
	list("(c) imaging", r.imaging)
	fmt.Fprintf(&b, `
Notes:
- (a) uploads the photo as a new file with `+"`POST /files/basic`"+` and `+"`Content-Type: application/octet-stream`"+`:
  render jobs are only written at upload for image/* files (internal/images InFinish/IsImage), so
  nothing renders before the GET. Each sample checks this through GraphQL (mime
  application/octet-stream, transformation not READY) and, after the GET, that the result is
  READY at 256x192. The timed GET, over loopback on a kept-alive connection, covers reading the
  original from storage, the header check, the render, storing the result, the job row and
  the response. The upload itself is not timed in (a); its median is shown for context.
- (b) is `+"`vipsthumbnail photo.jpg -s 256 -o out.webp[Q=%d]`"+`: Satchel's default WebP quality made
  explicit (vipsthumbnail's own default is Q75). "Per image without start-up" is one
  vipsthumbnail invocation on %d hard links to the photo divided by %d: libvips and process
  start-up paid once. vipsthumbnail uses nproc libvips threads by default; Satchel sets one
  libvips thread per render (it runs nproc renders at once instead), hence the
  VIPS_CONCURRENCY=1 row.
- (c) is github.com/disintegration/imaging v1.6.2 from a []byte in memory: imaging.Decode
  (image/jpeg), imaging.Fit(256, 256, Lanczos), imaging.Encode JPEG q%d. It decodes every
  pixel of the 12-megapixel image; libvips shrinks on load (the JPEG decoder's 1/8 scale).
- (d) GETs the rendered thumbnail of one file %d times in a row on one connection, after
  10 unmeasured GETs.
- Two unmeasured warm-up samples of each of (a), (b) and (c) come first.
`, webpQuality, o.batch, o.batch, jpegQuality, o.hits)
	return b.String()
}
