package e2e

// Crash-safety and graceful-shutdown tests. They run the real binary as a
// subprocess (built once per test run; see harness_process_test.go), kill or
// stop it at the interesting moments and restart it on the same data
// directory, database and store, on SQLite and on PostgreSQL, over the
// filestore and over S3. And crash repair in-process: the reconciler.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tus/tusd/v2/pkg/handler"

	"satchel/app"
	"satchel/internal/config"
	"satchel/internal/db"
	"satchel/internal/uploads"
	"satchel/models"
)

// A process killed with SIGKILL in the middle of a PATCH loses at most the
// bytes it had not stored; after a restart the upload resumes from the
// offset stored (on disk, or the parts in S3) and completes with the right
// digest.
func TestCrashMidUploadResumes(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		n := newNode(t, b)
		p := n.start()
		data := randomData(32 << 20)
		id := n.upload(p, len(data), "crash.bin")

		sp := n.startSlowPatch(p, id, 0, int64(len(data)))
		seen := n.feedUntilStored(sp, id, data, 4<<20)
		p.kill(t)
		if r := sp.result(t); r.err == nil {
			t.Fatalf("the PATCH cut by SIGKILL got a response: %d %s", r.status, r.body)
		}

		// On S3, what the killed process buffered stays on disk until the
		// next process starts, which removes it.
		dead := strconv.Itoa(p.cmd.Process.Pid)
		if n.bucket != nil && !slices.Contains(n.partBuffers(), dead) {
			t.Fatalf("no part buffers of the killed process %s: %v", dead, n.partBuffers())
		}

		p = n.start()
		off, length := n.head(p, id)
		if length != int64(len(data)) || off < seen || off >= length {
			t.Fatalf("after restart: offset %d, length %d; want offset in [%d, %d) and length %d", off, length, seen, len(data), len(data))
		}
		n.checkStoredPrefix(id, off, data)
		t.Logf("stored %d bytes before SIGKILL, resuming at %d", seen, off)
		if n.bucket != nil && slices.Contains(n.partBuffers(), dead) {
			t.Fatalf("the killed process's part buffers survive the restart: %v", n.partBuffers())
		}

		n.resume(p, id, off, data)
		n.requireFile(p, id, data)
		n.requireFiles(p, storedFile{ID: id, Size: int64(len(data)), SHA256: shaHex(data)})
	})
}

// A process that dies after the last byte is stored but before the File row
// commits leaves an upload the reconciler finishes at the next start: exactly
// one File, however often the server restarts or the finish runs.
func TestCrashBeforeCommitFinishesOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		n := newNode(t, b)

		// crashUpload uploads data completely to a server that dies in the
		// finishing transaction, and checks it died there.
		crashUpload := func(name string, data []byte) string {
			t.Helper()
			p := n.start("SATCHEL_FAULT=finish-before-commit")
			id := n.upload(p, len(data), name)
			resp, body, err := n.patch(p, id, 0, data)
			if err == nil {
				t.Fatalf("final PATCH answered %d %s; want the process to die before answering", resp.StatusCode, body)
			}
			if !p.waitExit(10*time.Second) || !p.killedBySIGKILL() {
				t.Fatalf("want the process killed by SIGKILL in the finishing transaction, got %v", p.state)
			}
			// All bytes are stored; the upload row is there and no File row.
			if size, ok := n.storedSize(id); !ok || size != int64(len(data)) {
				t.Fatalf("bytes stored after the crash: %d (%v), want %d", size, ok, len(data))
			}
			d, err := db.Open(context.Background(), n.dbURL, "")
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if _, err := models.GetFileAny(context.Background(), d, id); !errors.Is(err, models.ErrNotFound) {
				t.Fatalf("a File row exists after the crash before commit (err=%v)", err)
			}
			if _, err := models.GetUpload(context.Background(), d, id); err != nil {
				t.Fatalf("the upload row is gone after the crash before commit: %v", err)
			}
			return id
		}

		dataA := randomData(300<<10 + 7)
		idA := crashUpload("a.bin", dataA)
		fileA := storedFile{ID: idA, Size: int64(len(dataA)), SHA256: shaHex(dataA)}

		// Restart without the fault: the start-up reconciler finishes it.
		p := n.start()
		n.requireFiles(p, fileA)
		n.requireFile(p, idA, dataA)
		// The client that saw its connection drop asks where to resume: done.
		if off, length := n.head(p, idA); off != length || length != int64(len(dataA)) {
			t.Fatalf("HEAD after reconcile: offset %d, length %d, want both %d", off, length, len(dataA))
		}
		// Re-sending the (empty) end does not finish it again.
		resp, body, err := n.patch(p, idA, int64(len(dataA)), nil)
		if err != nil {
			t.Fatalf("empty PATCH at the end: %v", err)
		}
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("empty PATCH at the end: %d %s, want 204", resp.StatusCode, body)
		}
		n.requireFiles(p, fileA)
		p.stop(t, 10*time.Second)

		// Once more: still exactly one.
		p = n.start()
		n.requireFiles(p, fileA)
		p.stop(t, 10*time.Second)

		// A second crashed upload, finished by many concurrent finishers
		// (the tus hook, the start-up and periodic reconcilers of several
		// instances) over the same database and bytes: one File.
		dataB := randomData(200<<10 + 3)
		idB := crashUpload("b.bin", dataB)
		fileB := storedFile{ID: idB, Size: int64(len(dataB)), SHA256: shaHex(dataB)}
		concurrentFinish(t, n, idB, fileB)

		p = n.start()
		n.requireFiles(p, fileA, fileB)
		n.requireFile(p, idB, dataB)
	})
}

// concurrentFinish wires Satchel in-process on the node's data directory and
// database and finishes id from many goroutines at once.
func concurrentFinish(t *testing.T, n *node, id string, want storedFile) {
	t.Helper()
	cfg := config.Default()
	n.configure(&cfg)
	cfg.PublicURL = "http://127.0.0.1:1"
	cfg.LogLevel = "warn"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := context.Background()
	a, err := app.New(ctx, cfg, log, io.Discard)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	defer a.Close()
	// Hold the first finishing transaction open for a moment, so that the
	// others arrive while its File row is not yet committed: they must wait
	// for it and then find the upload finished, not insert a second row.
	a.Uploads.BeforeCommit = func(string) { time.Sleep(150 * time.Millisecond) }

	const finishers, reconcilers = 8, 2
	start := make(chan struct{})
	errs := make(chan error, finishers+reconcilers)
	var wg sync.WaitGroup
	for i := 0; i < finishers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			f, err := a.Uploads.Finish(ctx, id)
			switch {
			case err != nil:
				errs <- fmt.Errorf("Finish: %w", err)
			case f == nil || f.ID != id || f.Size != want.Size || f.SHA256 != want.SHA256:
				errs <- fmt.Errorf("Finish returned %+v, want %+v", f, want)
			}
		}()
	}
	for i := 0; i < reconcilers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, err := a.Uploads.Reconcile(ctx); err != nil {
				errs <- fmt.Errorf("Reconcile: %w", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	nFiles, err := a.DB.NewSelect().Model((*models.File)(nil)).Where("id = ?", id).Count(ctx)
	if err != nil || nFiles != 1 {
		t.Fatalf("File rows for %s after concurrent finishing: %d (%v), want 1", id, nFiles, err)
	}
	if _, err := models.GetUpload(ctx, a.DB, id); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("the upload row survived finishing (err=%v)", err)
	}
}

// SIGTERM stops the server cleanly and quickly even with a PATCH in flight;
// what the PATCH delivered is kept and the upload resumes after a restart.
func TestGracefulShutdownKeepsUploadResumable(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		n := newNode(t, b)
		p := n.start()
		data := randomData(32 << 20)
		id := n.upload(p, len(data), "graceful.bin")

		sp := n.startSlowPatch(p, id, 0, int64(len(data)))
		seen := n.feedUntilStored(sp, id, data, 4<<20)
		took := p.stop(t, 5*time.Second)
		t.Logf("stored %d bytes before SIGTERM; exited 0 after %v", seen, took)
		// The interrupted PATCH is answered 503 (tusd's ERR_SERVER_SHUTDOWN)
		// unless the connection went first; it never completes.
		if r := sp.result(t); r.err == nil && r.status != http.StatusServiceUnavailable {
			t.Fatalf("interrupted PATCH: %d %s, want 503", r.status, r.body)
		} else {
			t.Logf("interrupted PATCH: status %d, err %v, body %s", r.status, r.err, r.body)
		}

		p = n.start()
		off, length := n.head(p, id)
		if length != int64(len(data)) || off < seen || off >= length {
			t.Fatalf("after restart: offset %d, length %d; want offset in [%d, %d) and length %d", off, length, seen, len(data), len(data))
		}
		n.checkStoredPrefix(id, off, data)
		n.resume(p, id, off, data)
		n.requireFile(p, id, data)
		n.requireFiles(p, storedFile{ID: id, Size: int64(len(data)), SHA256: shaHex(data)})
		// SIGINT (Ctrl-C) stops it cleanly too.
		p.stopWith(t, syscall.SIGINT, 5*time.Second)
	})
}

// One unreadable upload does not stop crash repair of the others: each is
// repaired or set aside on its own, with a log line and a metric.
func TestReconcileSetsAsideBadUploads(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		ctx := context.Background()
		svc := s.app.Uploads
		p, err := s.authService().Authenticate(ctx, s.keys.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		// Uploads whose bytes are complete but whose File never committed
		// (as a crash between the last byte and the commit leaves them), and
		// among them some whose .info is garbage.
		var good, bad []string
		for i := range 12 {
			up, err := svc.Begin(ctx, p, uploads.BeginInput{Size: 5})
			if err != nil {
				t.Fatal(err)
			}
			bu, err := svc.Bytes.NewUpload(ctx, handler.FileInfo{ID: up.ID, Size: 5, MetaData: handler.MetaData{}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := bu.WriteChunk(ctx, 0, strings.NewReader("hello")); err != nil {
				t.Fatal(err)
			}
			if i%3 == 0 {
				s.corruptInfo(t, up.ID)
				bad = append(bad, up.ID)
				continue
			}
			good = append(good, up.ID)
		}
		n, err := svc.Reconcile(ctx)
		if err != nil || n != len(good) {
			t.Fatalf("reconcile: %d %v, want %d finished", n, err, len(good))
		}
		for _, id := range good {
			if f := s.getFile(t, s.keys.SecretKey, id); f == nil {
				t.Fatalf("good upload %s not finished", id)
			}
		}
		// Set aside: the next pass neither retries nor logs them again.
		if n, err := svc.Reconcile(ctx); err != nil || n != 0 {
			t.Fatalf("second pass: %d %v", n, err)
		}
		resp, body := s.do(t, http.MethodGet, "/metrics", "", nil, nil)
		if resp.StatusCode != 200 || !strings.Contains(string(body), "satchel_reconcile_set_aside_total 4") {
			t.Fatalf("metric: %d %s", resp.StatusCode, grepLines(string(body), "set_aside"))
		}
		for _, id := range bad {
			if f := s.getFile(t, s.keys.SecretKey, id); f != nil {
				t.Fatalf("unreadable upload %s committed", id)
			}
		}
	})
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
