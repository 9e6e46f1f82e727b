package storage

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tus/tusd/v2/pkg/handler"

	"satchel/internal/ids"
)

var errTestMismatch = errors.New("checksum mismatch (test)")

// checked returns ctx carrying the checksum of b with newHash; wrong
// flips one bit of the digest.
func checked(ctx context.Context, newHash func() hash.Hash, b []byte, wrong bool) context.Context {
	h := newHash()
	h.Write(b)
	sum := h.Sum(nil)
	if wrong {
		sum[0] ^= 1
	}
	return WithChunkChecksum(ctx, ChunkChecksum{New: newHash, Sum: sum, Length: int64(len(b)), Err: errTestMismatch})
}

// A chunk that fails its checksum leaves nothing behind: the offset, the
// bytes on disk and the running SHA-256 are as they were, and the same
// chunk with the right checksum is then taken; the file's SHA-256 is
// exact at the end, from memory and from disk.
func TestChunkChecksum(t *testing.T) {
	ctx := context.Background()
	algorithms := map[string]func() hash.Hash{"md5": md5.New, "sha1": sha1.New, "sha256": sha256.New}
	for _, size := range []int{3000, 3 * (5 << 20)} { // inline; pipelined
		for name, newHash := range algorithms {
			for _, stateless := range []bool{false, true} {
				label := name
				if size > pipeMinBytes {
					label += "/pipelined"
				}
				if stateless {
					label += "/no running digest"
				}
				t.Run(label, func(t *testing.T) {
					s, err := NewFile(t.TempDir())
					if err != nil {
						t.Fatal(err)
					}
					data := make([]byte, size)
					rand.Read(data)
					id := ids.New()
					if _, err := s.NewUpload(ctx, handler.FileInfo{ID: id, Size: int64(size), MetaData: handler.MetaData{}}); err != nil {
						t.Fatal(err)
					}
					third := size / 3
					write := func(ctx context.Context, off, end int) (int64, error) {
						t.Helper()
						up, err := s.GetUpload(ctx, id)
						if err != nil {
							t.Fatal(err)
						}
						return up.WriteChunk(ctx, int64(off), bytes.NewReader(data[off:end]))
					}
					unchanged := func(off int) {
						t.Helper()
						up, _ := s.GetUpload(ctx, id)
						info, _ := up.GetInfo(ctx)
						if info.Offset != int64(off) {
							t.Fatalf("offset %d after a refused chunk, want %d", info.Offset, off)
						}
						if !stateless && off > 0 {
							if at, _, err := s.hashing.states.Load(ctx, id); err != nil || at != int64(off) {
								t.Fatalf("running digest at %d (%v) after a refused chunk, want %d", at, err, off)
							}
						}
						if _, ok := s.hashing.finished.Load(id); ok {
							t.Fatal("a refused chunk left a finished digest")
						}
					}

					// The first third with no checksum at all.
					if n, err := write(ctx, 0, third); err != nil || n != int64(third) {
						t.Fatalf("first chunk: %d, %v", n, err)
					}
					if stateless {
						if err := s.hashing.states.Delete(ctx, id); err != nil {
							t.Fatal(err)
						}
					}
					// The second third: wrong, then right.
					if n, err := write(checked(ctx, newHash, data[third:2*third], true), third, 2*third); n != 0 || !errors.Is(err, errTestMismatch) {
						t.Fatalf("mismatched chunk: %d, %v", n, err)
					}
					unchanged(third)
					if n, err := write(checked(ctx, newHash, data[third:2*third], false), third, 2*third); err != nil || n != int64(third) {
						t.Fatalf("matching chunk: %d, %v", n, err)
					}
					// The last, completing chunk: wrong, cut short, then right.
					if n, err := write(checked(ctx, newHash, data[2*third:], true), 2*third, size); n != 0 || !errors.Is(err, errTestMismatch) {
						t.Fatalf("mismatched last chunk: %d, %v", n, err)
					}
					unchanged(2 * third)
					// Interrupted: the body ends early (as tusd's body reader
					// ends, keeping the reason to itself), or fails.
					half := (size - 2*third) / 2
					up, _ := s.GetUpload(ctx, id)
					early := io.LimitReader(bytes.NewReader(data[2*third:]), int64(half))
					if n, err := up.WriteChunk(checked(ctx, newHash, data[2*third:], false), int64(2*third), early); n != 0 || err != nil {
						t.Fatalf("interrupted chunk: %d, %v; want 0, nil", n, err)
					}
					unchanged(2 * third)
					up, _ = s.GetUpload(ctx, id)
					broken := &brokenReader{r: bytes.NewReader(data[2*third:]), n: half}
					if n, err := up.WriteChunk(checked(ctx, newHash, data[2*third:], false), int64(2*third), broken); n != 0 || err == nil {
						t.Fatalf("broken chunk: %d, %v; want 0 and the reader's error", n, err)
					}
					unchanged(2 * third)
					if n, err := write(checked(ctx, newHash, data[2*third:], false), 2*third, size); err != nil || n != int64(size-2*third) {
						t.Fatalf("matching last chunk: %d, %v", n, err)
					}

					if left, _ := filepath.Glob(filepath.Join(s.bytes.(*fileStore).dir, "*", "*"+unverifiedSuffix)); len(left) != 0 {
						t.Fatalf("records of unverified writes left behind: %v", left)
					}
					if fi, err := os.Stat(filepath.Join(s.bytes.(*fileStore).dir, id)); err != nil || fi.Size() != int64(size) {
						t.Fatalf("file is %v bytes (%v), want %d", fi.Size(), err, size)
					}
					want := sha256.Sum256(data)
					for _, from := range []string{"memory", "disk"} {
						got, err := s.Checksum(ctx, id, int64(size))
						if err != nil || got != hex.EncodeToString(want[:]) {
							t.Fatalf("sha256 from %s: %s, %v; want %x", from, got, err, want)
						}
						if err := s.Forget(ctx, id); err != nil {
							t.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// Without Length, a chunk that ends early cannot be told from a short one:
// its digest decides, and it is refused as a mismatch.
func TestChunkChecksumUnknownLength(t *testing.T) {
	ctx := context.Background()
	s, err := NewFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("0123456789")
	id := ids.New()
	up, err := s.NewUpload(ctx, handler.FileInfo{ID: id, Size: 10, MetaData: handler.MetaData{}})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	cctx := WithChunkChecksum(ctx, ChunkChecksum{New: sha256.New, Sum: sum[:], Length: -1, Err: errTestMismatch})
	if n, err := up.WriteChunk(cctx, 0, io.LimitReader(bytes.NewReader(data), 4)); n != 0 || !errors.Is(err, errTestMismatch) {
		t.Fatalf("short chunk: %d, %v", n, err)
	}
	up, _ = s.GetUpload(ctx, id)
	if n, err := up.WriteChunk(cctx, 0, bytes.NewReader(data)); n != 10 || err != nil {
		t.Fatalf("whole chunk: %d, %v", n, err)
	}
	if got, _ := s.Checksum(ctx, id, 10); got != hex.EncodeToString(sum[:]) {
		t.Fatalf("sha256 %s", got)
	}
}

// A crash between a checked write and its verification leaves bytes that
// never matched their checksum: the next start cuts them off, so that the
// upload neither keeps nor finishes with them.
func TestUnverifiedWriteTakenBackAtStart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	id, gone := ids.New(), ids.New()
	up, err := s.NewUpload(ctx, handler.FileInfo{ID: id, Size: 100, MetaData: handler.MetaData{}})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := up.WriteChunk(ctx, 0, bytes.NewReader(make([]byte, 40))); n != 40 || err != nil {
		t.Fatalf("write: %d, %v", n, err)
	}
	// The process dies with the completing chunk written, not verified.
	tb := s.hashing.takeBack.(fileTakeBack)
	if err := tb.begin(id, 40); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, id), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(make([]byte, 60))
	f.Close()
	if err := tb.begin(gone, 7); err != nil { // an upload deleted since
		t.Fatal(err)
	}

	s, err = NewFile(dir)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	up, err = s.GetUpload(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := up.GetInfo(ctx); info.Offset != 40 {
		t.Fatalf("offset %d after restart, want 40", info.Offset)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*", "*"+unverifiedSuffix)); len(left) != 0 {
		t.Fatalf("records left after restart: %v", left)
	}
}
