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
// With -gateway-pid (an S3 store, bench/upload.sh with BENCH_STORE=s3) the
// gateway's CPU time is reported beside each server's, and with
// -satchel-tmp and -tusd-tmp the peak of what each server's temp dir holds
// (s3store buffers parts there); the driver's own CPU time is always
// reported, to show that the client is not the bottleneck.
//
// Correctness is checked on the way: every response's status and
// Upload-Offset; after each large upload a HEAD must show Upload-Offset equal
// to the size, and for Satchel the File's size and sha256 (GraphQL, secret
// key) must match the source file; a multipart upload's File must have the
// source's size and sha256 too.
//
// Files: main.go the flags; run.go the sequence of measures and the source
// file; target.go the tus and GraphQL client of one server; process.go the
// server's CPU time and RSS; warmup.go the warm-up and the page-cache
// prefault before each run; bigupload.go (1), smalluploads.go (2),
// openuploads.go (3), multipart.go (5); report.go, report_upload.go and
// report_multipart.go the tables and Markdown files.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
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
	// The byte store both servers write to, for the report: store names
	// it ("filestore", or the S3 server), satchelStore and tusdStore
	// describe each server's settings ("" for the filestore's defaults).
	store, satchelStore, tusdStore string
	// The S3 gateway's process ID (0 for none): its CPU time is reported
	// beside each server's.
	gatewayPID int
	// The servers' temp dirs ("" for none): the peak size of what they
	// hold during (1), (3) and (5) is reported (S3: buffered parts).
	satchelTmp, tusdTmp string
	// tmpBound is what Satchel's temp dir may hold at most during one
	// upload (S3: the part being filled, the buffered parts and those on
	// their way, in bytes); 0 for no goal.
	tmpBound int64
	// smallGoal is the goal of (2), as a fraction of tusd's rate.
	smallGoal float64
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
	flag.StringVar(&o.store, "store", "filestore", "the byte store both servers use, to report (e.g. \"S3: versitygw v1.7.0 on 127.0.0.1\")")
	flag.StringVar(&o.satchelStore, "satchel-store", "", "Satchel's store settings, to report (default: the filestore's)")
	flag.StringVar(&o.tusdStore, "tusd-store", "", "tusd's store flags, to report (default: the filestore's)")
	flag.IntVar(&o.gatewayPID, "gateway-pid", 0, "the S3 gateway's process ID, for its CPU time during each run (0: none)")
	flag.StringVar(&o.satchelTmp, "satchel-tmp", "", "Satchel's temp dir, for the peak of what it holds during (1), (3) and (5)")
	flag.StringVar(&o.tusdTmp, "tusd-tmp", "", "tusd's temp dir, likewise")
	flag.Int64Var(&o.tmpBound, "tmp-bound", 0, "the most Satchel's temp dir may hold during (1), in bytes, as a goal (0: none)")
	flag.Float64Var(&o.smallGoal, "small-goal", 0.7, "the goal of (2), as Satchel's share of tusd's uploads/s")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "uploadbench:", err)
		os.Exit(1)
	}
}
