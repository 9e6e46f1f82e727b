package storage

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"

	"github.com/tus/tusd/v2/pkg/handler"

	"satchel/internal/ids"
)

// brokenReader fails after n bytes, like a dropped connection.
type brokenReader struct {
	r io.Reader
	n int
}

func (b *brokenReader) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, errors.New("connection reset")
	}
	if len(p) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= n
	return n, err
}

// The digest must equal the SHA-256 of the bytes whatever way they came:
// inline or pipelined, in one request or resumed after a failure, from the
// running digest, from memory, or re-read.
func TestChecksumAcrossWrites(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		size   int
		chunks []int // bytes per request; a negative one breaks after that many
	}{
		{"small one request", 1000, []int{1000}},
		{"large one request (pipelined)", 9 << 20, []int{9 << 20}},
		{"large, broken then resumed", 9 << 20, []int{-(5<<20 + 123), 9<<20 - (5<<20 + 123)}},
		{"many small requests", 300 << 10, []int{100 << 10, 100 << 10, 100 << 10}},
		{"empty", 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewFile(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			data := make([]byte, tc.size)
			rand.Read(data)
			id := ids.New()
			up, err := s.NewUpload(ctx, handler.FileInfo{ID: id, Size: int64(tc.size), MetaData: handler.MetaData{}})
			if err != nil {
				t.Fatal(err)
			}
			off := 0
			for _, c := range tc.chunks {
				up, _ = s.GetUpload(ctx, id)
				var src io.Reader = bytes.NewReader(data[off:])
				if c < 0 {
					src = &brokenReader{r: src, n: -c}
				} else {
					src = io.LimitReader(src, int64(c))
				}
				n, _ := up.WriteChunk(ctx, int64(off), src)
				off += int(n)
			}
			if off != tc.size {
				t.Fatalf("wrote %d of %d", off, tc.size)
			}
			want := sha256.Sum256(data)
			got, err := s.Checksum(ctx, id, int64(tc.size))
			if err != nil || got != hex.EncodeToString(want[:]) {
				t.Fatalf("checksum %s, %v; want %x", got, err, want)
			}
			// Again, with nothing in memory: from the disk.
			got, err = s.Checksum(ctx, id, int64(tc.size))
			if err != nil || got != hex.EncodeToString(want[:]) {
				t.Fatalf("second checksum %s, %v", got, err)
			}
		})
	}
}

func FuzzHashingReader(f *testing.F) {
	f.Add([]byte("hello"), uint16(3))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		for _, pipeline := range []bool{false, true} {
			h := sha256.New()
			r := &hashingReader{src: &brokenReader{r: bytes.NewReader(data), n: int(cut)}, h: h, pipeline: pipeline}
			var out bytes.Buffer
			n, _ := r.WriteTo(&out)
			if n != r.n || !bytes.Equal(out.Bytes(), data[:n]) {
				t.Fatalf("wrote %d, hashed %d", n, r.n)
			}
			want := sha256.Sum256(data[:n])
			if !bytes.Equal(h.Sum(nil), want[:]) {
				t.Fatal("digest differs from the bytes written")
			}
		}
	})
}

// sizeWriter records the largest write it was given.
type sizeWriter struct {
	bytes.Buffer
	largest int
}

func (w *sizeWriter) Write(p []byte) (int, error) {
	w.largest = max(w.largest, len(p))
	return w.Buffer.Write(p)
}

// A large write is pipelined through large buffers while a pipeline slot is
// free, and hashed inline through a small one when none is; either way the
// digest is the bytes', and the slot is given back, even when the source
// fails midway.
func TestPipelineSlots(t *testing.T) {
	data := make([]byte, 9<<20)
	rand.Read(data)
	copyOnce := func(t *testing.T, src io.Reader) (largest int, n int64) {
		t.Helper()
		h := sha256.New()
		r := &hashingReader{src: src, h: h, pipeline: true}
		var out sizeWriter
		n, _ = r.WriteTo(&out)
		if n != r.n || !bytes.Equal(out.Bytes(), data[:n]) {
			t.Fatalf("wrote %d, hashed %d", n, r.n)
		}
		want := sha256.Sum256(data[:n])
		if !bytes.Equal(h.Sum(nil), want[:]) {
			t.Fatal("digest differs from the bytes written")
		}
		return out.largest, n
	}

	largest, _ := copyOnce(t, bytes.NewReader(data))
	if largest <= inlineBufSize {
		t.Errorf("with a free slot the largest write was %d bytes: not pipelined", largest)
	}
	cut := 5<<20 + 123
	if _, n := copyOnce(t, &brokenReader{r: bytes.NewReader(data), n: cut}); n != int64(cut) {
		t.Errorf("broken source: wrote %d, want %d", n, cut)
	}
	if len(pipeSlots) != 0 {
		t.Fatalf("%d pipeline slots still taken after the copies", len(pipeSlots))
	}

	for range cap(pipeSlots) {
		pipeSlots <- struct{}{}
	}
	largest, _ = copyOnce(t, bytes.NewReader(data))
	for range cap(pipeSlots) {
		<-pipeSlots
	}
	if largest > inlineBufSize {
		t.Errorf("with every slot taken the largest write was %d bytes: pipelined anyway", largest)
	}
}
