package storage

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/tus/tusd/v2/pkg/handler"

	"satchel/internal/ids"
	"satchel/internal/testdb"
	"satchel/models"
)

// Multipart sessions, the same tests on both stores: the filestore, and S3
// on a real server (versitygw). Parts are 5 MiB (S3's least but the last),
// as a session's are.

const testPart = 5 << 20

// sessionEnv is a store to test sessions on.
type sessionEnv struct {
	// open starts a process over the store's bytes (the filestore's
	// folder; S3's bucket and database).
	open func(t *testing.T) *Store
	// begin begins a session (with its row, for S3).
	begin func(t *testing.T, s *Store, size int64, contentType string) string
	// left lists what the store holds: files, or keys and unfinished
	// multipart uploads.
	left func(t *testing.T) []string
	s3   *s3Env // nil for the filestore
}

func eachSessionStore(t *testing.T, f func(t *testing.T, e *sessionEnv)) {
	t.Run("file", func(t *testing.T) {
		dir := t.TempDir()
		f(t, &sessionEnv{
			open: func(t *testing.T) *Store {
				s, err := NewFile(dir)
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
			begin: func(t *testing.T, s *Store, size int64, ct string) string {
				id := ids.New()
				if err := s.BeginSession(t.Context(), id, size, ct); err != nil {
					t.Fatal(err)
				}
				return id
			},
			left: func(t *testing.T) []string {
				var left []string
				filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
					if err == nil && !d.IsDir() {
						rel, _ := filepath.Rel(dir, p)
						left = append(left, rel)
					}
					return nil
				})
				return left
			},
		})
	})
	t.Run("s3", func(t *testing.T) {
		e := newS3Env(t, testdb.SQLite(t))
		f(t, &sessionEnv{
			s3:   e,
			open: e.open,
			begin: func(t *testing.T, s *Store, size int64, ct string) string {
				id := e.begin(t, size)
				if err := s.BeginSession(t.Context(), id, size, ct); err != nil {
					t.Fatal(err)
				}
				return id
			},
			left: func(t *testing.T) []string { return append(e.keys(t), e.multipartUploads(t)...) },
		})
	})
}

// sessionParts cuts a file of size bytes into parts.
func sessionParts(size int64) []SessionPart {
	var parts []SessionPart
	for off := int64(0); off < size || len(parts) == 0; off += testPart {
		parts = append(parts, SessionPart{Index: len(parts), Offset: off, Size: min(testPart, size-off)})
	}
	return parts
}

// put sends part p of data.
func put(t *testing.T, s *Store, id string, data []byte, p SessionPart) SessionPart {
	t.Helper()
	got, err := s.PutSessionPart(t.Context(), id, p, bytes.NewReader(data[p.Offset:p.Offset+p.Size]))
	if err != nil {
		t.Fatalf("put part %d: %v", p.Index, err)
	}
	if got.SHA256 != sumOf(data[p.Offset:p.Offset+p.Size]) {
		t.Fatalf("part %d: sha256 %s", p.Index, got.SHA256)
	}
	return got
}

// complete completes the session and checks the digest and the file.
func complete(t *testing.T, s *Store, id string, data []byte, parts []SessionPart) {
	t.Helper()
	sum, err := s.CompleteSession(t.Context(), id, int64(len(data)), parts)
	if err != nil {
		t.Fatalf("complete: %v", err)
	}
	if sum != sumOf(data) {
		t.Fatalf("sha256 %s, want %s", sum, sumOf(data))
	}
	obj, err := s.Open(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	if got, err := io.ReadAll(obj); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the file: %d bytes (%v), want %d", len(got), err, len(data))
	}
}

// Parts in any order give the file and its exact SHA-256; how much of it
// is read back depends on the order: none in order, nor for parts within
// the window; the parts beyond it, else.
func TestSessionPartsInAnyOrder(t *testing.T) {
	eachSessionStore(t, func(t *testing.T, e *sessionEnv) {
		data := randomBytes(5*testPart + 1234)
		all := sessionParts(int64(len(data)))
		last := all[len(all)-1].Size
		for _, tc := range []struct {
			name   string
			window int
			order  []int
			// held, readBack: bytes hashed from memory, read back.
			held, readBack int64
		}{
			{"in order", sessionWindow, []int{0, 1, 2, 3, 4, 5}, 0, 0},
			{"reverse, within the window", sessionWindow, []int{5, 4, 3, 2, 1, 0}, 4*testPart + last, 0},
			{"reverse, beyond a window of 2", 2, []int{5, 4, 3, 2, 1, 0}, testPart, 3*testPart + last},
			{"shuffled, within a window of 3", 3, []int{2, 0, 1, 5, 3, 4}, testPart + last, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := e.open(t)
				s.sessions.window = tc.window
				id := e.begin(t, s, int64(len(data)), "")
				parts := slices.Clone(all)
				for _, i := range tc.order {
					parts[i] = put(t, s, id, data, all[i])
				}
				complete(t, s, id, data, parts)
				st := s.SessionStats()
				if st.FromHeld != tc.held || st.ReadBack != tc.readBack || st.Streamed+st.FromHeld+st.ReadBack != int64(len(data)) {
					t.Errorf("hashed %+v; want %d bytes from memory, %d read back", st, tc.held, tc.readBack)
				}
				if err := s.Delete(t.Context(), id); err != nil {
					t.Fatal(err)
				}
				if left := e.left(t); len(left) != 0 {
					t.Fatalf("left after the delete: %v", left)
				}
				if st := s.SessionStats(); st.Held != 0 {
					t.Fatalf("%d bytes still held", st.Held)
				}
			})
		}
	})
}

// gate is a body that gives nothing until it is opened.
type gate struct {
	r       io.Reader
	open    chan struct{}
	reading chan struct{} // closed at the first Read
	once    sync.Once
}

func newGate(b []byte) *gate {
	return &gate{r: bytes.NewReader(b), open: make(chan struct{}), reading: make(chan struct{})}
}

func (g *gate) Read(p []byte) (int, error) {
	g.once.Do(func() { close(g.reading) })
	<-g.open
	return g.r.Read(p)
}

// Four parts in flight, the first one the last to arrive: the others are
// held, and nothing is read back. A part beyond the window waits for the
// frontier while its next part is being written, and is then held.
func TestSessionPartsInFlight(t *testing.T) {
	eachSessionStore(t, func(t *testing.T, e *sessionEnv) {
		data := randomBytes(6 * testPart)
		all := sessionParts(int64(len(data)))
		s := e.open(t)
		s.sessions.window = 4
		id := e.begin(t, s, int64(len(data)), "")
		parts := slices.Clone(all)
		first := newGate(data[:testPart])
		var wg sync.WaitGroup
		wg.Go(func() {
			var err error
			if parts[0], err = s.PutSessionPart(t.Context(), id, all[0], first); err != nil {
				t.Error(err)
			}
		})
		<-first.reading
		var ahead sync.WaitGroup
		for i := 1; i < 4; i++ {
			ahead.Go(func() { parts[i] = put(t, s, id, data, all[i]) })
		}
		ahead.Wait()
		// Part 4 is beyond the window: it waits while part 0 is written.
		beyond := newGate(data[4*testPart : 5*testPart])
		close(beyond.open)
		wg.Go(func() {
			var err error
			if parts[4], err = s.PutSessionPart(t.Context(), id, all[4], beyond); err != nil {
				t.Error(err)
			}
		})
		select {
		case <-beyond.reading:
			t.Fatal("a part beyond the window was read while the frontier's part was being written")
		case <-time.After(200 * time.Millisecond):
		}
		close(first.open)
		wg.Wait()
		parts[5] = put(t, s, id, data, all[5])
		complete(t, s, id, data, parts)
		if st := s.SessionStats(); st.ReadBack != 0 || st.FromHeld < 3*testPart || st.Streamed < testPart || st.Streamed+st.FromHeld != int64(len(data)) {
			t.Fatalf("hashed %+v; want part 0 as it streamed, 1 to 3 from memory, nothing read back", st)
		}
	})
}

// A part sent again: after a body that ended early (which fails with
// ErrShortPart), or with other bytes after the frontier passed it (then the
// digest is the new bytes', the file read back whole), or with the same
// bytes (nothing read back).
func TestSessionPartSentAgain(t *testing.T) {
	eachSessionStore(t, func(t *testing.T, e *sessionEnv) {
		data := randomBytes(2*testPart + 99)
		all := sessionParts(int64(len(data)))

		s := e.open(t)
		id := e.begin(t, s, int64(len(data)), "")
		parts := slices.Clone(all)
		parts[0] = put(t, s, id, data, all[0])
		short := &brokenReader{r: bytes.NewReader(data[testPart:]), n: 1000}
		if _, err := s.PutSessionPart(t.Context(), id, all[1], short); !errors.Is(err, ErrShortPart) {
			t.Fatalf("a short body: %v, want ErrShortPart", err)
		}
		if _, err := s.PutSessionPart(t.Context(), id, all[1], bytes.NewReader(data[testPart:testPart+10])); !errors.Is(err, ErrShortPart) {
			t.Fatalf("a body of 10 bytes: %v, want ErrShortPart", err)
		}
		parts[1] = put(t, s, id, data, all[1])
		parts[0] = put(t, s, id, data, all[0]) // the same bytes
		parts[2] = put(t, s, id, data, all[2])
		complete(t, s, id, data, parts)
		if st := s.SessionStats(); st.ReadBack != 0 {
			t.Fatalf("hashed %+v; want nothing read back", st)
		}

		s = e.open(t)
		id = e.begin(t, s, int64(len(data)), "")
		other := bytes.Clone(data)
		copy(other, randomBytes(testPart))
		parts[0] = put(t, s, id, other, all[0])
		parts[1] = put(t, s, id, data, all[1])
		parts[2] = put(t, s, id, data, all[2])
		parts[0] = put(t, s, id, data, all[0]) // other bytes, behind the frontier
		complete(t, s, id, data, parts)
		if st := s.SessionStats(); st.ReadBack < int64(len(data)) {
			t.Fatalf("hashed %+v; want the file read back", st)
		}
	})
}

// A part sent as a tus upload is copied into the session (by S3, without
// downloading it); at the frontier, its bytes are read back from that
// upload. Completing twice, or in another process, gives the same digest:
// on S3 from the frontier it saved; on the filestore read back.
func TestSessionCopiedPartsAndAnotherProcess(t *testing.T) {
	eachSessionStore(t, func(t *testing.T, e *sessionEnv) {
		ctx := t.Context()
		data := randomBytes(3*testPart + 7)
		all := sessionParts(int64(len(data)))
		var calls *countingAPI
		if e.s3 != nil {
			calls = &countingAPI{s3API: e.s3.srv.Client()}
			e.s3.api = calls
		}
		s := e.open(t)
		id := e.begin(t, s, int64(len(data)), "")
		tusUpload := func(p SessionPart) string {
			b := data[p.Offset : p.Offset+p.Size]
			var upID string
			if e.s3 != nil {
				upID = e.s3.begin(t, p.Size)
			} else {
				upID = ids.New()
			}
			up, err := s.NewUpload(ctx, handler.FileInfo{ID: upID, Size: p.Size, IsPartial: true, MetaData: handler.MetaData{}})
			if err != nil {
				t.Fatal(err)
			}
			if n, err := up.WriteChunk(ctx, 0, bytes.NewReader(b)); err != nil || n != p.Size {
				t.Fatalf("write: %d, %v", n, err)
			}
			return upID
		}
		parts := slices.Clone(all)
		var err error
		from0, from2 := tusUpload(all[0]), tusUpload(all[2])
		if parts[0], err = s.CopySessionPart(ctx, id, all[0], from0); err != nil {
			t.Fatal(err)
		}
		if parts[2], err = s.CopySessionPart(ctx, id, all[2], from2); err != nil {
			t.Fatal(err)
		}
		if parts[0].SHA256 != sumOf(data[:testPart]) {
			t.Fatalf("part 0's sha256 %s", parts[0].SHA256)
		}
		parts[1] = put(t, s, id, data, all[1])
		parts[3] = put(t, s, id, data, all[3])
		if calls != nil {
			if n := calls.count("UploadPartCopy"); n != 2 {
				t.Errorf("%d part copies, want 2", n)
			}
		}
		// Completed in another process: S3 continues the frontier the
		// first one saved (once it has: it moves after the writes return);
		// the filestore reads the file back.
		if e.s3 != nil {
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if at, _, _ := models.GetUploadDigest(ctx, e.s3.db, id); at == int64(len(data)) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the frontier was never saved at the end of the file")
				}
			}
		}
		other := e.open(t)
		complete(t, other, id, data, parts)
		st := other.SessionStats()
		if e.s3 != nil && st.ReadBack != 0 {
			t.Errorf("hashed %+v on another instance; want the saved frontier, nothing read back", st)
		}
		if e.s3 == nil && st.ReadBack != int64(len(data)) {
			t.Errorf("hashed %+v by another process; want the file read back", st)
		}
		complete(t, s, id, data, parts) // again, where it began
		if st := s.SessionStats(); st.ReadBack != 2*testPart {
			t.Errorf("hashed %+v; want the copied parts read back, from their uploads", st)
		}
		for _, from := range []string{from0, from2} {
			if err := s.Delete(ctx, from); err != nil {
				t.Fatal(err)
			}
		}
		if err := other.Forget(ctx, id); err != nil {
			t.Fatal(err)
		}
		if e.s3 != nil {
			if _, _, err := models.GetUploadDigest(ctx, e.s3.db, id); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("the saved frontier outlives the session: %v", err)
			}
			if mps := e.s3.multipartUploads(t); len(mps) != 0 {
				t.Errorf("multipart uploads left: %v", mps)
			}
		}
	})
}

// An empty file; a session aborted (or deleted once complete) leaves
// nothing; on S3 the file has the session's declared type.
func TestSessionEmptyAbortedAndTyped(t *testing.T) {
	eachSessionStore(t, func(t *testing.T, e *sessionEnv) {
		ctx := t.Context()
		s := e.open(t)
		empty := e.begin(t, s, 0, "text/plain")
		p := put(t, s, empty, nil, SessionPart{})
		complete(t, s, empty, nil, []SessionPart{p})

		data := randomBytes(testPart + 5)
		typed := e.begin(t, s, int64(len(data)), "video/mp4")
		parts := sessionParts(int64(len(data)))
		for i := range parts {
			parts[i] = put(t, s, typed, data, parts[i])
		}
		complete(t, s, typed, data, parts)
		if e.s3 != nil {
			for id, want := range map[string]string{empty: "text/plain", typed: "video/mp4"} {
				out, err := e.s3.srv.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(e.s3.bucket), Key: aws.String("sat/chel/" + id)})
				if err != nil || aws.ToString(out.ContentType) != want {
					t.Errorf("%s: Content-Type %q (%v), want %s", id, aws.ToString(out.ContentType), err, want)
				}
			}
		}

		aborted := e.begin(t, s, int64(len(data)), "")
		put(t, s, aborted, data, parts[1])
		for range 2 {
			if err := s.AbortSession(ctx, aborted); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range []string{empty, typed} {
			if err := s.Delete(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		if left := e.left(t); len(left) != 0 {
			t.Fatalf("left: %v", left)
		}
		if st := s.SessionStats(); st.Held != 0 {
			t.Fatalf("%d bytes still held", st.Held)
		}
	})
}

// The memory budget is the process's: parts it has no room for are read
// back, and the digest is the same.
func TestSessionBudget(t *testing.T) {
	eachSessionStore(t, func(t *testing.T, e *sessionEnv) {
		data := randomBytes(4 * testPart)
		all := sessionParts(int64(len(data)))
		s := e.open(t)
		s.sessions.budget = testPart
		id := e.begin(t, s, int64(len(data)), "")
		parts := slices.Clone(all)
		for _, i := range []int{3, 2, 1, 0} {
			parts[i] = put(t, s, id, data, all[i])
			if held := s.SessionStats().Held; held > testPart {
				t.Fatalf("%d bytes held, over the budget", held)
			}
		}
		complete(t, s, id, data, parts)
		if st := s.SessionStats(); st.FromHeld != testPart || st.ReadBack != 2*testPart {
			t.Fatalf("hashed %+v; want one part from memory, two read back", st)
		}
	})
}

// A process forgets the sessions that received nothing for an hour (their
// last part went to another instance, or their client gave up), and what
// they held.
func TestSessionForgetsStaleSessions(t *testing.T) {
	ss := newSessionHashers(nil)
	stale := ss.get("stale")
	stale.ahead[3] = &heldPart{p: SessionPart{Index: 3, Size: 10}, buf: ss.reserve(stale, 10)}
	stale.used.Store(time.Now().Add(-2 * sessionForget).UnixNano())
	ss.get("recent")
	ss.swept = time.Time{}
	ss.get("another")
	if _, ok := ss.m["stale"]; ok || len(ss.m) != 2 {
		t.Fatalf("sessions %v: want the stale one forgotten", slices.Collect(maps.Keys(ss.m)))
	}
	if st := ss.stats(); st.Held != 0 {
		t.Fatalf("%d bytes still held", st.Held)
	}
}
