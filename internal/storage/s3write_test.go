package storage

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/tus/tusd/v2/pkg/handler"

	"satchel/internal/testdb"
	"satchel/models"
)

type syncCounter struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *syncCounter) add(op, key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[op]++
	c.m[op+" "+key]++
}

func (c *syncCounter) get(k string) int { c.mu.Lock(); defer c.mu.Unlock(); return c.m[k] }
func (c *syncCounter) reset()           { c.mu.Lock(); defer c.mu.Unlock(); c.m = nil }

// A deferred length: bytes first (parts, and the tail aside as an
// incomplete part), the length after, declared by tusd (a PATCH that may
// carry no bytes) or by a one-shot upload of unknown length.
func TestS3DeferredLength(t *testing.T) {
	ctx := context.Background()
	e := newS3Env(t, testdb.SQLite(t))
	s := e.open(t)
	for _, tc := range []struct {
		name string
		size int
		tusd bool
	}{
		{"one-shot", 7<<20 + 9, false},
		{"one-shot, empty", 0, false},
		{"tusd, empty last PATCH", 7<<20 + 9, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := randomBytes(tc.size)
			id := e.begin(t, -1)
			up, err := s.NewUpload(ctx, handler.FileInfo{ID: id, SizeIsDeferred: true, MetaData: handler.MetaData{}})
			if err != nil {
				t.Fatal(err)
			}
			if n, err := up.WriteChunk(ctx, 0, bytes.NewReader(data)); err != nil || n != int64(tc.size) {
				t.Fatalf("write: %d, %v", n, err)
			}
			if tc.tusd {
				// As tusd: a new request, the length, then the (empty) body.
				up, _ = s.GetUpload(ctx, id)
				if err := s.Composer().LengthDeferrer.AsLengthDeclarableUpload(up).DeclareLength(ctx, int64(tc.size)); err != nil {
					t.Fatal(err)
				}
				if _, err := up.WriteChunk(ctx, int64(tc.size), strings.NewReader("")); err != nil {
					t.Fatal(err)
				}
				if err := up.FinishUpload(ctx); err != nil {
					t.Fatal(err)
				}
			} else if err := s.DeclareLength(ctx, up, int64(tc.size)); err != nil {
				t.Fatal(err)
			}
			if got := e.object(t, "sat/chel/"+id); !bytes.Equal(got, data) {
				t.Fatalf("the file has %d bytes, want %d", len(got), tc.size)
			}
			if got, err := e.open(t).Checksum(ctx, id, int64(tc.size)); err != nil || got != sumOf(data) {
				t.Fatalf("sha256 %s, %v", got, err)
			}
		})
	}
}

// A chunk with a checksum is verified before S3 gets it: a mismatched,
// short or broken one leaves no part, no incomplete part, no spooled file,
// and the same offset and running digest; the right one is kept.
func TestS3ChunkChecksum(t *testing.T) {
	ctx := context.Background()
	e := newS3Env(t, testdb.SQLite(t))
	s := e.open(t)
	data := randomBytes(11 << 20)
	id := e.begin(t, int64(len(data)))
	if _, err := s.NewUpload(ctx, handler.FileInfo{ID: id, Size: int64(len(data)), MetaData: handler.MetaData{}}); err != nil {
		t.Fatal(err)
	}
	write(t, s, id, data, 0, 3<<20) // the incomplete part alone
	before := e.keys(t)
	unchanged := func(what string) {
		t.Helper()
		up, err := s.GetUpload(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if info, _ := up.GetInfo(ctx); info.Offset != 3<<20 {
			t.Fatalf("%s: offset %d", what, info.Offset)
		}
		if keys := e.keys(t); strings.Join(keys, ",") != strings.Join(before, ",") {
			t.Fatalf("%s: keys %v, were %v", what, keys, before)
		}
		if at, _, err := models.GetUploadDigest(ctx, e.db, id); err != nil || at != 3<<20 {
			t.Fatalf("%s: running digest at %d, %v", what, at, err)
		}
		bid, _ := models.UploadBackendID(ctx, e.db, id)
		_, mp := splitBackendID(bid)
		parts, err := e.srv.Client().ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(e.bucket), Key: aws.String("sat/chel/" + id), UploadId: aws.String(mp)})
		if err != nil || len(parts.Parts) != 0 {
			t.Fatalf("%s: parts %v, %v", what, parts, err)
		}
		if spooled, _ := filepath.Glob(filepath.Join(s.hashing.spool, "*")); len(spooled) != 0 {
			t.Fatalf("%s: spooled files left: %v", what, spooled)
		}
	}
	chunk := data[3<<20 : 9<<20]
	send := func(sum []byte, length int64, body io.Reader) (int64, error) {
		up, err := s.GetUpload(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		cctx := WithChunkChecksum(ctx, ChunkChecksum{New: md5.New, Sum: sum, Length: length, Err: errTestMismatch})
		return up.WriteChunk(cctx, 3<<20, body)
	}
	right := md5.Sum(chunk)
	wrong := right
	wrong[0] ^= 1
	if n, err := send(wrong[:], int64(len(chunk)), bytes.NewReader(chunk)); n != 0 || !errors.Is(err, errTestMismatch) {
		t.Fatalf("mismatch: %d, %v", n, err)
	}
	unchanged("mismatch")
	if n, err := send(right[:], int64(len(chunk)), io.LimitReader(bytes.NewReader(chunk), 1<<20)); n != 0 || err != nil {
		t.Fatalf("interrupted: %d, %v", n, err)
	}
	unchanged("interrupted")
	if n, err := send(right[:], int64(len(chunk)), &brokenReader{r: bytes.NewReader(chunk), n: 2 << 20}); n != 0 || err == nil {
		t.Fatalf("broken: %d, %v", n, err)
	}
	unchanged("broken")
	if n, err := send(right[:], int64(len(chunk)), bytes.NewReader(chunk)); n != int64(len(chunk)) || err != nil {
		t.Fatalf("match: %d, %v", n, err)
	}
	write(t, s, id, data, 9<<20, len(data))
	if got := e.object(t, "sat/chel/"+id); !bytes.Equal(got, data) {
		t.Fatalf("the file has %d bytes", len(got))
	}
	if got, err := s.Checksum(ctx, id, int64(len(data))); err != nil || got != sumOf(data) {
		t.Fatalf("sha256 %s, %v", got, err)
	}
}

// Each process buffers in <base>/<pid>; at start, the directories of dead
// processes go, the living's and anything else stay.
func TestProcessTempDir(t *testing.T) {
	base := t.TempDir()
	dead := filepath.Join(base, "999999999") // above any pid_max
	alive := filepath.Join(base, strconv.Itoa(os.Getppid()))
	other := filepath.Join(base, "not-a-pid")
	for _, d := range []string{dead, alive, other} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d, "tusd-s3-tmp-1"), []byte("part"), 0o600)
	}
	dir, err := processTempDir(base)
	if err != nil {
		t.Fatal(err)
	}
	if dir != filepath.Join(base, strconv.Itoa(os.Getpid())) {
		t.Fatalf("dir %s", dir)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Fatalf("a dead process's directory stays: %v", err)
	}
	for _, d := range []string{alive, other, dir} {
		if _, err := os.Stat(d); err != nil {
			t.Fatalf("%s: %v", d, err)
		}
	}
	if again, err := processTempDir(base); err != nil || again != dir {
		t.Fatalf("a second store in the process: %s, %v", again, err)
	}
}

// A bucket that is missing or cannot be reached fails at start with a
// message that says so; readiness fails once the bucket is gone.
func TestS3StartAndPing(t *testing.T) {
	e := newS3Env(t, testdb.SQLite(t))
	cfg := e.config()
	cfg.S3.Bucket = "satchel-no-such-bucket"
	if _, err := Open(cfg); err == nil || !strings.Contains(err.Error(), "no such bucket") {
		t.Fatalf("missing bucket: %v", err)
	}
	cfg = e.config()
	cfg.S3.Endpoint = "http://127.0.0.1:1"
	if _, err := Open(cfg); err == nil || !strings.Contains(err.Error(), "cannot be reached") {
		t.Fatalf("unreachable endpoint: %v", err)
	}
	cfg = e.config()
	cfg.S3.IDs = nil
	if _, err := Open(cfg); err == nil {
		t.Fatal("opened without its upload IDs")
	}

	s := e.open(t)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.Client().DeleteBucket(t.Context(), &s3.DeleteBucketInput{Bucket: aws.String(e.bucket)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Fatal("ping of a missing bucket")
	}
}
