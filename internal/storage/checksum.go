package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ChunkChecksum is what the bytes of one write must hash to (the tus
// checksum extension's Upload-Checksum). A write that carries one is kept
// whole or not at all: when its bytes do not match, or do not all arrive,
// the upload is cut back to where the write began and its running SHA-256
// stays as it was, so the write can be retried at the same offset.
type ChunkChecksum struct {
	// New returns the hash the chunk is checked with.
	New func() hash.Hash
	// Sum is the digest the chunk must have.
	Sum []byte
	// Length is the chunk's declared length (a request's Content-Length),
	// or -1 when unknown. A chunk that ends short of it was interrupted:
	// nothing is kept and WriteChunk returns (0, nil), leaving the reason
	// to whoever was reading the request (tusd answers with the body's own
	// error: shut down, interrupted, connection lost).
	Length int64
	// Err is what WriteChunk returns when the bytes do not match.
	Err error
}

type chunkChecksumKey struct{}

// WithChunkChecksum returns ctx carrying c: the upload's next WriteChunk
// under ctx is checked against it.
func WithChunkChecksum(ctx context.Context, c ChunkChecksum) context.Context {
	return context.WithValue(ctx, chunkChecksumKey{}, &c)
}

func chunkChecksumFrom(ctx context.Context) *ChunkChecksum {
	c, _ := ctx.Value(chunkChecksumKey{}).(*ChunkChecksum)
	return c
}

// checkedReader hashes what it reads for a ChunkChecksum.
type checkedReader struct {
	src io.Reader
	c   *ChunkChecksum
	h   hash.Hash
	n   int64
}

func newCheckedReader(src io.Reader, c *ChunkChecksum) *checkedReader {
	return &checkedReader{src: src, c: c, h: c.New()}
}

func (r *checkedReader) Read(p []byte) (int, error) {
	n, err := r.src.Read(p)
	if n > 0 {
		r.h.Write(p[:n])
		r.n += int64(n)
	}
	return n, err
}

// verdict tells whether a write of n bytes, which the store ended with err,
// may be kept; when not, reject is what WriteChunk returns once the bytes
// are gone (nil for an interrupted chunk, see Length).
func (r *checkedReader) verdict(n int64, err error) (keep bool, reject error) {
	switch {
	case err != nil:
		return false, err
	case n != r.n:
		return false, io.ErrShortWrite
	case n < r.c.Length:
		return false, nil
	case !bytes.Equal(r.h.Sum(nil), r.c.Sum):
		return false, r.c.Err
	}
	return true, nil
}

// takeBack is how a store takes back a checked write it could not verify.
type takeBack interface {
	// begin records that id's bytes from offset on are not verified yet:
	// should the process die before end, the next start cuts them off.
	begin(id string, offset int64) error
	// undo cuts id's bytes back to offset.
	undo(id string, offset int64) error
	// end forgets what begin recorded.
	end(id string) error
}

// fileTakeBack takes back writes to the filestore in files: the bytes by
// truncating, the records as <id>.unverified (the offset) in a directory
// of their own.
type fileTakeBack struct{ files, records string }

const unverifiedSuffix = ".unverified"

func (f fileTakeBack) record(id string) string { return filepath.Join(f.records, id+unverifiedSuffix) }

func (f fileTakeBack) begin(id string, offset int64) error {
	return os.WriteFile(f.record(id), binary.BigEndian.AppendUint64(nil, uint64(offset)), 0o640)
}

func (f fileTakeBack) undo(id string, offset int64) error {
	return os.Truncate(filepath.Join(f.files, id), offset)
}

func (f fileTakeBack) end(id string) error {
	if err := os.Remove(f.record(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// cutUnverified cuts off the bytes of the checked writes that a crash left
// unverified, so that no upload keeps, or finishes with, bytes that never
// matched their checksum. It runs before the store serves.
func (f fileTakeBack) cutUnverified() error {
	entries, err := os.ReadDir(f.records)
	if err != nil {
		return fmt.Errorf("unverified writes: %w", err)
	}
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), unverifiedSuffix)
		if !ok {
			continue
		}
		buf, err := os.ReadFile(f.record(id))
		if err != nil {
			return fmt.Errorf("unverified write of %s: %w", id, err)
		}
		if len(buf) == 8 {
			err := f.undo(id, int64(binary.BigEndian.Uint64(buf)))
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("take back unverified write of %s: %w", id, err)
			}
		}
		if err := f.end(id); err != nil {
			return fmt.Errorf("unverified write of %s: %w", id, err)
		}
	}
	return nil
}
