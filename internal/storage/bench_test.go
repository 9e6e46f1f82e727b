package storage

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/tus/tusd/v2/pkg/handler"

	"satchel/internal/ids"
)

// patternReader yields left bytes of a fixed pattern, at most 1 MiB a Read
// (as a socket hands over what has arrived).
type patternReader struct{ left int64 }

var pattern = func() []byte {
	b := make([]byte, 1<<20)
	for i := range b {
		b[i] = byte(i * 31)
	}
	return b
}()

func (r *patternReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(int64(len(p)), r.left)], pattern)
	r.left -= int64(n)
	return n, nil
}

// BenchmarkWriteChunk writes one upload in one WriteChunk, as one tus PATCH
// does: through tusd's filestore alone (what bare tusd does with the bytes)
// and through Satchel's store (the same plus the streaming SHA-256, and the
// digest read back at finish). MB/s compares the two; B/op is the memory a
// write allocates, which stays under the pipeline's two 4 MiB buffers
// whatever the upload's size. Without a network in front, the SHA-256
// (about 1.6 GB/s a core here) is what limits Satchel's figure.
// "satchel-checksum" is a write that carries a tus Upload-Checksum (sha256):
// the chunk is hashed a second time, inline.
//
//	go test -run '^$' -bench WriteChunk -benchtime 5x ./internal/storage
func BenchmarkWriteChunk(b *testing.B) {
	for _, size := range []int64{16 << 20, 256 << 20} {
		for _, store := range []string{"filestore", "satchel", "satchel-checksum"} {
			b.Run(fmt.Sprintf("%s/%dMiB", store, size>>20), func(b *testing.B) {
				ctx := context.Background()
				s, err := NewFile(b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				var ds handler.DataStore = s.hashing
				switch store {
				case "filestore":
					ds = s.hashing.inner
				case "satchel-checksum":
					h := sha256.New()
					io.Copy(h, &patternReader{left: size})
					ctx = WithChunkChecksum(ctx, ChunkChecksum{New: sha256.New, Sum: h.Sum(nil), Length: size, Err: errors.New("mismatch")})
				}
				b.SetBytes(size)
				b.ReportAllocs()
				for b.Loop() {
					id := ids.New()
					up, err := ds.NewUpload(ctx, handler.FileInfo{ID: id, Size: size, MetaData: handler.MetaData{}})
					if err != nil {
						b.Fatal(err)
					}
					if n, err := up.WriteChunk(ctx, 0, &patternReader{left: size}); err != nil || n != size {
						b.Fatalf("wrote %d of %d: %v", n, size, err)
					}
					if store != "filestore" {
						if _, err := s.Checksum(ctx, id, size); err != nil {
							b.Fatal(err)
						}
					}
					if err := s.Delete(ctx, id); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
