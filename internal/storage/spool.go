package storage

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
)

// writeVerified writes a chunk that carries a ChunkChecksum to a store that
// cannot take bytes back (S3: a part sent is a part kept). The chunk is
// spooled to a file in the process's temporary directory while it is
// hashed with the client's algorithm, and handed to the store only when it
// matches: a refused or interrupted chunk never reaches the store, so the
// upload, its offset and its running SHA-256 are as they were.
//
// The spool holds at most what is left of the upload (tusd reads no more
// of a body; for a deferred length, tusd bounds the body by the server's
// largest upload), and is removed when the write returns. Should the store
// then fail midway, it keeps a prefix of bytes that were verified whole.
func (u *hashingUpload) writeVerified(ctx context.Context, offset int64, src io.Reader, c *ChunkChecksum) (int64, error) {
	info, err := u.Upload.GetInfo(ctx)
	if err != nil {
		return 0, err
	}
	limit := int64(math.MaxInt64)
	if !info.SizeIsDeferred {
		limit = info.Size - offset
	}
	f, err := os.CreateTemp(u.store.spool, "checked-*")
	if err != nil {
		return 0, fmt.Errorf("checked write to %s: %w", u.id, err)
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	cr := newCheckedReader(io.LimitReader(src, limit), c)
	n, err := io.Copy(f, cr)
	if keep, reject := cr.verdict(n, err); !keep {
		return 0, reject
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("checked write to %s: %w", u.id, err)
	}
	// Verified: written as any other chunk.
	return u.WriteChunk(context.WithValue(ctx, chunkChecksumKey{}, (*ChunkChecksum)(nil)), offset, io.LimitReader(f, n))
}
