// Command thumbbench measures how long Satchel takes to make a thumbnail of
// a 12-megapixel photo, against the vipsthumbnail command of the same libvips
// and against a pure-Go resize (github.com/disintegration/imaging), on the
// same machine, in one run. It prints figures and ratios next to the goals
// and never asserts on time.
//
// It is started by bench/thumb.sh, which builds and starts Satchel (fresh
// data dir) and passes its URL, data dir and process ID. The measures, each
// the median (and p90) of -n samples, taken in rotation so that drift of the
// machine hits each alike:
//
//	(a) Satchel's first render: the photo is uploaded as a new file with
//	    POST /files/basic as application/octet-stream (no image/* type, so
//	    no render job is written at upload: internal/images InFinish/IsImage),
//	    then GET /files/<id>/thumb renders the preset (256x256 INSIDE, WEBP)
//	    on demand; the GET is timed end to end over loopback;
//	(b) `vipsthumbnail photo.jpg -s 256 -o out.webp[Q=80]`: the process, end
//	    to end; also one invocation on -batch copies divided by -batch (no
//	    process start-up), and the process with VIPS_CONCURRENCY=1 (Satchel
//	    gives libvips one thread per render);
//	(c) imaging v1.6.2: decode the JPEG, imaging.Fit to 256x256 (Lanczos),
//	    encode JPEG q80 (Go has no WebP encoder);
//	(d) a cached hit: GET /files/<id>/thumb of a rendered file, -hits times.
//
// Correctness is checked on the way: every thumbnail is 256x192 (WebP from
// Satchel and vipsthumbnail, JPEG from imaging); before each timed GET the
// file's mime is application/octet-stream and its transformation is not
// READY (GraphQL), after it the transformation is READY at 256x192.
//
// Files: main.go the flags; run.go the sequence of measures; photo.go the
// generated photo; satchel.go the client of (a) and (d); vipsthumbnail.go
// (b); imaging.go (c); report.go the tables and the Markdown file.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
)

const (
	photoW, photoH = 4000, 3000
	thumbBox       = 256
	wantW, wantH   = 256, 192 // 4000x3000 inside 256x256
	webpQuality    = 80       // Satchel's default quality (transforms.DefaultQuality)
	jpegQuality    = 80       // imaging's output
	presetName     = "thumb"
)

type options struct {
	url, data   string
	pid         int
	image       string
	n, hits     int
	batch       int
	batchRuns   int
	work        string
	md          string
	mode        string
	nproc       string
	satchelRev  string
	vipsCommand string
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "", "Satchel's base URL, e.g. http://127.0.0.1:18580")
	flag.StringVar(&o.data, "data", "", "Satchel's data dir (for bootstrap-keys.json)")
	flag.IntVar(&o.pid, "pid", 0, "Satchel's process ID (for its CPU time)")
	flag.StringVar(&o.image, "image", "bench/out/photo-12mp.jpg", "the 12-megapixel JPEG (generated if missing)")
	flag.IntVar(&o.n, "n", 15, "samples of (a), (b) and (c)")
	flag.IntVar(&o.hits, "hits", 200, "samples of (d)")
	flag.IntVar(&o.batch, "batch", 15, "copies of the photo in one vipsthumbnail invocation")
	flag.IntVar(&o.batchRuns, "batch-runs", 5, "runs of the batch invocation")
	flag.StringVar(&o.work, "work", "bench/out/thumb-work", "scratch dir for vipsthumbnail's inputs and outputs")
	flag.StringVar(&o.md, "md", "bench/out/thumb-results.md", "where to write the Markdown results")
	flag.StringVar(&o.mode, "mode", "full", "label of the run: full or quick")
	flag.StringVar(&o.nproc, "nproc", strconv.Itoa(runtime.NumCPU()), "CPU count to report (`nproc`)")
	flag.StringVar(&o.satchelRev, "satchel-rev", "", "Satchel revision to report")
	flag.StringVar(&o.vipsCommand, "vipsthumbnail", "vipsthumbnail", "the vipsthumbnail command")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "thumbbench:", err)
		os.Exit(1)
	}
}
