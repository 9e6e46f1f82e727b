package storage

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/uptrace/bun"

	"satchel/internal/dbtest"
	"satchel/internal/ids"
	"satchel/internal/s3test"
	"satchel/internal/storedb"
	"satchel/internal/testdb"
	"satchel/models"
)

// s3Env is a bucket on a real S3 server (versitygw) and a migrated
// database: each open is another Satchel instance over both.
type s3Env struct {
	srv    *s3test.Server
	bucket string
	prefix string
	db     *bun.DB
	acct   string
	tmp    string
	api    s3API // nil: the SDK client built as in production
}

func newS3Env(t *testing.T, b testdb.Backend) *s3Env {
	t.Helper()
	srv := s3test.Start(t)
	e := &s3Env{srv: srv, bucket: srv.Bucket(t), prefix: "sat/chel", db: dbtest.Open(t, b), acct: ids.New(), tmp: t.TempDir()}
	if err := models.InsertAccount(t.Context(), e.db, &models.Account{ID: e.acct, Name: "a", CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *s3Env) config() Config {
	return Config{Kind: "s3", S3: S3Config{
		Bucket: e.bucket, Endpoint: e.srv.Endpoint, Region: e.srv.Region, Prefix: e.prefix,
		PartSize: minPartSize, TempDir: e.tmp,
		IDs: storedb.BackendIDs{DB: e.db}, States: storedb.Digests{DB: e.db}, api: e.api,
	}}
}

// open starts an instance.
func (e *s3Env) open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(e.config())
	if err != nil {
		t.Fatalf("open: %v\n%s", err, s3test.Log())
	}
	return s
}

// begin inserts an unfinished upload's row, as uploads.Begin does before
// tusd creates its bytes.
func (e *s3Env) begin(t *testing.T, size int64) string {
	t.Helper()
	id := ids.New()
	if err := models.InsertUploads(t.Context(), e.db, []*models.Upload{{ID: id, AccountID: e.acct, Size: size, CreatedAt: 1, ExpiresAt: 1 << 60}}); err != nil {
		t.Fatal(err)
	}
	return id
}

func (e *s3Env) keys(t *testing.T) []string { return e.srv.Keys(t, e.bucket) }

// multipartUploads lists the bucket's unfinished multipart uploads.
func (e *s3Env) multipartUploads(t *testing.T) []string {
	t.Helper()
	out, err := e.srv.Client().ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String(e.bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var ups []string
	for _, u := range out.Uploads {
		ups = append(ups, aws.ToString(u.Key)+"+"+aws.ToString(u.UploadId))
	}
	return ups
}

// object reads a key of the bucket.
func (e *s3Env) object(t *testing.T, key string) []byte {
	t.Helper()
	out, err := e.srv.Client().GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func sumOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// write writes data[from:to] at from through a store's upload.
func write(t *testing.T, s *Store, id string, data []byte, from, to int) {
	t.Helper()
	up, err := s.GetUpload(t.Context(), id)
	if err != nil {
		t.Fatalf("get upload at %d: %v", from, err)
	}
	if n, err := up.WriteChunk(t.Context(), int64(from), bytes.NewReader(data[from:to])); err != nil || n != int64(to-from) {
		t.Fatalf("write %d-%d: %d, %v", from, to, n, err)
	}
}

// An upload is created on one instance and written on three: each
// continues the running SHA-256 from the database (S3 holds the bytes it
// covers), so the last one has the file's digest without reading it. The
// upload's ID is the file ID throughout; s3store's name stays on the row.
// Once finished (its row gone), any instance still answers its offset.
func TestS3UploadAcrossInstances(t *testing.T) {
	testdb.Each(t, func(t *testing.T, b testdb.Backend) {
		ctx := t.Context()
		e := newS3Env(t, b)
		data := randomBytes(13<<20 + 5)
		id := e.begin(t, int64(len(data)))

		a := e.open(t)
		// Any metadata: keys that are no header name, and more than S3
		// takes as user metadata.
		meta := handler.MetaData{"filename": "ü.bin", "café": "crème", "long": strings.Repeat("x", 3000)}
		up, err := a.NewUpload(ctx, handler.FileInfo{ID: id, Size: int64(len(data)), MetaData: meta})
		if err != nil {
			t.Fatal(err)
		}
		if info, _ := up.GetInfo(ctx); info.ID != id {
			t.Fatalf("the upload is named %q, want the file ID %q", info.ID, id)
		}
		bid, err := models.UploadBackendID(ctx, e.db, id)
		if own, mp := splitBackendID(bid); err != nil || own != id || mp == "" {
			t.Fatalf("the row records %q (%v), want %s+<multipart ID>", bid, err, id)
		}
		cuts := []int{0, 6 << 20, 9<<20 + 1, len(data)} // a part and an incomplete part, then both again
		for i, inst := range []*Store{a, e.open(t), e.open(t)} {
			write(t, inst, id, data, cuts[i], cuts[i+1])
			if i < 2 {
				if at, _, err := models.GetUploadDigest(ctx, e.db, id); err != nil || at != int64(cuts[i+1]) {
					t.Fatalf("after write %d the digest covers %d bytes (%v), want %d", i, at, err, cuts[i+1])
				}
				continue
			}
			if _, ok := inst.hashing.finished.Load(id); !ok {
				t.Fatal("the last instance did not continue the running digest")
			}
			if got, err := inst.Checksum(ctx, id, int64(len(data))); err != nil || got != sumOf(data) {
				t.Fatalf("sha256 %s, %v; want %s", got, err, sumOf(data))
			}
		}
		if _, _, err := models.GetUploadDigest(ctx, e.db, id); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("a complete upload keeps its running digest: %v", err)
		}
		if got := e.object(t, "sat/chel/"+id); !bytes.Equal(got, data) {
			t.Fatalf("the object has %d bytes, not the upload's %d", len(got), len(data))
		}
		// Re-read by an instance that holds nothing.
		if got, err := e.open(t).Checksum(ctx, id, int64(len(data))); err != nil || got != sumOf(data) {
			t.Fatalf("sha256 re-read: %s, %v", got, err)
		}

		// Finished: the row goes (finish's transaction), the upload stays
		// readable by its ID, complete.
		if err := models.DeleteUpload(ctx, e.db, id); err != nil {
			t.Fatal(err)
		}
		up, err = e.open(t).GetUpload(ctx, id)
		if err != nil {
			t.Fatalf("finished upload: %v", err)
		}
		if info, err := up.GetInfo(ctx); err != nil || info.ID != id || info.Offset != info.Size || info.Size != int64(len(data)) || !maps.Equal(info.MetaData, meta) {
			t.Fatalf("finished upload's info: %+v, %v", info, err)
		}
		if _, err := a.GetUpload(ctx, ids.New()); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown upload: %v", err)
		}
		for _, k := range e.keys(t) {
			if !strings.HasPrefix(k, "sat/chel/") {
				t.Errorf("key %q is outside the prefix", k)
			}
		}
		if mps := e.multipartUploads(t); len(mps) != 0 {
			t.Errorf("multipart uploads left: %v", mps)
		}
	})
}

// A multipart upload aborted behind the store's back (a lifecycle rule, an
// operator) is gone, not complete, though s3store reads it as complete.
func TestS3VanishedMultipartUpload(t *testing.T) {
	testdb.Each(t, func(t *testing.T, b testdb.Backend) {
		ctx := t.Context()
		e := newS3Env(t, b)
		s := e.open(t)
		data := randomBytes(7 << 20)
		id := e.begin(t, int64(len(data)))
		if _, err := s.NewUpload(ctx, handler.FileInfo{ID: id, Size: int64(len(data)), MetaData: handler.MetaData{}}); err != nil {
			t.Fatal(err)
		}
		write(t, s, id, data, 0, 6<<20)
		bid, _ := models.UploadBackendID(ctx, e.db, id)
		_, mp := splitBackendID(bid)
		if _, err := e.srv.Client().AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket: aws.String(e.bucket), Key: aws.String("sat/chel/" + id), UploadId: aws.String(mp),
		}); err != nil {
			t.Fatal(err)
		}
		// s3store alone says complete; the store says gone.
		raw, _ := s.bytes.(*s3Store).tusd.GetUpload(ctx, bid)
		if info, err := raw.GetInfo(ctx); err != nil || info.Offset != info.Size {
			t.Fatalf("s3store's view: %+v, %v (the premise of this test)", info, err)
		}
		if _, err := e.open(t).GetUpload(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("vanished upload: %v, want ErrNotFound", err)
		}
		if ok, err := s.Exists(ctx, id); ok || err != nil {
			t.Fatalf("a vanished upload exists: %v, %v", ok, err)
		}
	})
}

// The process died between an upload's last part and the completion of its
// multipart upload: every byte is stored, no object holds them. Exists (the
// reconciler asks before it commits a file) completes it, the incomplete
// part of a deferred length included.
func TestS3ExistsCompletesWhatACrashLeft(t *testing.T) {
	ctx := context.Background()
	e := newS3Env(t, testdb.SQLite(t))
	s := e.open(t)
	for _, deferred := range []bool{false, true} {
		data := randomBytes(6<<20 + 100)
		id := e.begin(t, int64(len(data)))
		if _, err := s.NewUpload(ctx, handler.FileInfo{ID: id, Size: int64(len(data)), SizeIsDeferred: deferred, MetaData: handler.MetaData{}}); err != nil {
			t.Fatal(err)
		}
		bid, _ := models.UploadBackendID(ctx, e.db, id)
		raw, _ := s.bytes.(*s3Store).tusd.GetUpload(ctx, bid) // s3store alone: no completion
		if _, err := raw.WriteChunk(ctx, 0, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		if deferred {
			if err := s.bytes.(*s3Store).tusd.AsLengthDeclarableUpload(raw).DeclareLength(ctx, int64(len(data))); err != nil {
				t.Fatal(err)
			}
		}
		if ok, _ := s.bytes.(*s3Store).head(ctx, "sat/chel/"+id); ok {
			t.Fatal("the object exists before completion (the premise of this test)")
		}
		if ok, err := e.open(t).Exists(ctx, id); !ok || err != nil {
			t.Fatalf("deferred %v: exists %v, %v", deferred, ok, err)
		}
		if got := e.object(t, "sat/chel/"+id); !bytes.Equal(got, data) {
			t.Fatalf("deferred %v: the completed object has %d bytes, want %d", deferred, len(got), len(data))
		}
		if ok, err := s.Exists(ctx, ids.New()); ok || err != nil {
			t.Fatalf("an unknown upload exists: %v, %v", ok, err)
		}
	}
}

// A multipart session's part sent again whole is created again: the
// earlier multipart upload and incomplete part are gone, and the new bytes
// are the part's.
func TestS3UploadCreatedAgain(t *testing.T) {
	ctx := context.Background()
	e := newS3Env(t, testdb.SQLite(t))
	s := e.open(t)
	size := 6<<20 + 3
	first, second := randomBytes(size), randomBytes(size)
	id := ids.New()
	// A part's bytes are created before its row.
	if _, err := s.NewUpload(ctx, handler.FileInfo{ID: id, Size: int64(size), IsPartial: true, MetaData: handler.MetaData{}}); err != nil {
		t.Fatal(err)
	}
	if err := models.InsertUploads(ctx, e.db, []*models.Upload{{ID: id, AccountID: e.acct, Size: int64(size), Partial: true, CreatedAt: 1, ExpiresAt: 1 << 60}}); err != nil {
		t.Fatal(err)
	}
	write(t, s, id, first, 0, 5<<20+1) // a part and an incomplete part
	if err := s.Forget(ctx, id); err != nil {
		t.Fatal(err)
	}
	up, err := s.NewUpload(ctx, handler.FileInfo{ID: id, Size: int64(size), IsPartial: true, MetaData: handler.MetaData{}})
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := up.GetInfo(ctx); info.Offset != 0 {
		t.Fatalf("created again at offset %d", info.Offset)
	}
	if mps := e.multipartUploads(t); len(mps) != 1 {
		t.Fatalf("multipart uploads: %v, want the new one alone", mps)
	}
	if n, err := up.WriteChunk(ctx, 0, bytes.NewReader(second)); n != int64(size) || err != nil {
		t.Fatalf("write again: %d, %v", n, err)
	}
	if !bytes.Equal(e.object(t, "sat/chel/"+id), second) {
		t.Fatal("the part's object is not its second bytes")
	}
	if got, err := s.Checksum(ctx, id, int64(size)); err != nil || got != sumOf(second) {
		t.Fatalf("sha256 %s, %v", got, err)
	}
	if keys := e.keys(t); !slices.Equal(keys, []string{"sat/chel/" + id, "sat/chel/" + id + ".info"}) {
		t.Fatalf("keys %v", keys)
	}
}
