package storage

import (
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"

	"github.com/tus/tusd/v2/pkg/handler"

	"satchel/internal/ids"
)

// hashingStore wraps a tusd DataStore so that every chunk is hashed on its
// way to the store.
type hashingStore struct {
	inner  handler.DataStore
	states HashStates
	// shared says that other instances read and write states too (S3's,
	// in the database): no upload is assumed to have none, and a new
	// upload starts by dropping any.
	shared bool
	// takeBack takes back the chunks that fail their ChunkChecksum (the
	// filestore), unless spool is set.
	takeBack takeBack
	// spool, when set, is the directory where a chunk with a
	// ChunkChecksum is kept and verified before the store gets it (S3,
	// which cannot take a chunk back).
	spool string
	// recorded holds the uploads whose takeBack record could not be
	// removed after a checked write (id -> struct{}).
	recorded sync.Map
	// finished holds the digests of uploads completed in this process and
	// not yet forgotten (id -> digest).
	finished sync.Map
	// stateless holds the uploads created by this process that never saved
	// a state: dropping their state needs no unlink. (An unlink locks the
	// directory against every concurrent create, found or not.)
	stateless sync.Map
	// unsaved holds the uploads this process created and completed in one
	// request, whose state was therefore never saved (a shared store's
	// stateless), until they are forgotten.
	unsaved sync.Map
}

// digest is the SHA-256 of an upload's first size bytes.
type digest struct {
	size int64
	sum  string
}

var (
	_ handler.DataStore               = (*hashingStore)(nil)
	_ handler.TerminaterDataStore     = (*hashingStore)(nil)
	_ handler.ConcaterDataStore       = (*hashingStore)(nil)
	_ handler.LengthDeferrerDataStore = (*hashingStore)(nil)
)

type hashingUpload struct {
	handler.Upload
	id    string
	store *hashingStore
	// fresh: this value was just made by NewUpload, so that no state of
	// the upload exists anywhere yet (a shared store drops an earlier
	// upload's state when it creates one again): a write that completes the
	// upload in the request that created it saves and drops nothing.
	fresh bool
}

func (s *hashingStore) NewUpload(ctx context.Context, info handler.FileInfo) (handler.Upload, error) {
	up, err := s.inner.NewUpload(ctx, info)
	if err != nil {
		return nil, err
	}
	info, err = up.GetInfo(ctx)
	if err != nil {
		return nil, err
	}
	if !s.shared {
		s.stateless.Store(info.ID, struct{}{})
	}
	return &hashingUpload{Upload: up, id: info.ID, store: s, fresh: true}, nil
}

func (s *hashingStore) GetUpload(ctx context.Context, id string) (handler.Upload, error) {
	// IDs become paths in the filestore: anything but a Satchel ID is unknown.
	if !ids.Valid(id) {
		return nil, handler.ErrNotFound
	}
	up, err := s.inner.GetUpload(ctx, id)
	if err != nil {
		return nil, err
	}
	return &hashingUpload{Upload: up, id: id, store: s}, nil
}

// countingHash counts what it hashes, to tell whether the store wrote
// exactly the bytes that were hashed.
type countingHash struct {
	hash.Hash
	n int64
}

func (c *countingHash) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.Hash.Write(p)
}

// WriteChunk passes the chunk through the running digest on its way to the
// store. When the digest cannot continue (no state for this offset, or the
// store wrote fewer bytes than were hashed) the state is dropped and
// Checksum re-reads the bytes.
//
// A chunk whose ctx carries a ChunkChecksum is also hashed with the
// client's algorithm, and kept only when it matches: otherwise the bytes
// are cut off again and neither the running digest nor the finished one is
// saved, so the upload is exactly as it was before the write.
func (u *hashingUpload) WriteChunk(ctx context.Context, offset int64, src io.Reader) (int64, error) {
	var cr *checkedReader
	if c := chunkChecksumFrom(ctx); c != nil {
		if u.store.spool != "" {
			return u.writeVerified(ctx, offset, src, c)
		}
		if err := u.store.takeBack.begin(u.id, offset); err != nil {
			return 0, fmt.Errorf("checked write to %s: %w", u.id, err)
		}
		cr = newCheckedReader(src, c)
		src = cr
	}
	h := u.store.resume(ctx, u.id, offset)
	if h == nil {
		n, err := u.Upload.WriteChunk(ctx, offset, src)
		if cr != nil {
			_, n, err = u.settle(ctx, cr, offset, n, err)
		}
		return n, err
	}
	info, _ := u.Upload.GetInfo(ctx)
	remaining := info.Size - offset
	hr := &hashingReader{src: src, h: h, pipeline: info.SizeIsDeferred || remaining >= pipeMinBytes}
	n, err := u.Upload.WriteChunk(ctx, offset, hr)
	if cr != nil {
		var kept bool
		if kept, n, err = u.settle(ctx, cr, offset, n, err); !kept {
			// The bytes are gone: the state saved at offset still holds.
			return n, err
		}
	}
	// An interrupted request (the client went away) still leaves a valid
	// digest as long as the store wrote exactly the bytes that were hashed.
	if n != hr.n {
		_ = u.store.dropState(ctx, u.id)
		return n, err
	}
	if !info.SizeIsDeferred && offset+n == info.Size {
		// Complete: keep the digest in memory for the finishing step rather
		// than on disk (a crash before it only costs a re-read).
		u.store.finished.Store(u.id, digest{size: info.Size, sum: hex.EncodeToString(h.Sum(nil))})
		if u.fresh && offset == 0 {
			// Created and completed by one request: no instance has saved
			// a state for it, and none can now; finishing need not drop one.
			u.store.unsaved.Store(u.id, struct{}{})
			return n, err
		}
		_ = u.store.dropState(ctx, u.id)
		return n, err
	}
	u.fresh = false
	state, merr := h.(encoding.BinaryMarshaler).MarshalBinary()
	if merr == nil {
		u.store.stateless.Delete(u.id)
		merr = u.store.states.Save(u.store.stateCtx(ctx), u.id, offset+n, state)
	}
	if merr != nil {
		_ = u.store.dropState(u.store.stateCtx(ctx), u.id)
	}
	return n, err
}

// stateCtx is the context states are saved under after a write: shared
// states outlive the request (the client may have gone, the bytes it sent
// are stored all the same).
func (s *hashingStore) stateCtx(ctx context.Context) context.Context {
	if s.shared {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// settle keeps a checked write of n bytes at offset, or takes it back:
// then the upload's bytes end at offset again and n is 0.
func (u *hashingUpload) settle(ctx context.Context, cr *checkedReader, offset, n int64, err error) (kept bool, _ int64, _ error) {
	keep, reject := cr.verdict(n, err)
	if keep {
		err := u.store.takeBack.end(u.id)
		if err == nil {
			return true, n, nil
		}
		// Kept bytes behind a record that calls them unverified would be
		// cut at the next start: take them back too.
		reject = fmt.Errorf("checked write to %s: %w", u.id, err)
	}
	if err := u.store.takeBack.undo(u.id, offset); err != nil {
		// The bytes stay until the next start takes them back (begin's
		// record stays); the running digest no longer describes them.
		_ = u.store.dropState(ctx, u.id)
		return false, n, fmt.Errorf("take back chunk of %s at %d: %w", u.id, offset, err)
	}
	if err := u.store.takeBack.end(u.id); err != nil {
		// Retried when the upload is forgotten, before it can finish with
		// bytes the record would have cut.
		u.store.recorded.Store(u.id, struct{}{})
		if reject == nil {
			reject = fmt.Errorf("checked write to %s: %w", u.id, err)
		}
	}
	return false, 0, reject
}

// dropState removes the saved state of id, if it may have one.
func (s *hashingStore) dropState(ctx context.Context, id string) error {
	if _, ok := s.stateless.Load(id); ok {
		return nil
	}
	if _, ok := s.unsaved.Load(id); ok {
		return nil
	}
	return s.states.Delete(ctx, id)
}

// forget drops everything kept for id's digest.
func (s *hashingStore) forget(ctx context.Context, id string) error {
	s.finished.Delete(id)
	err := s.dropState(ctx, id)
	s.stateless.Delete(id)
	s.unsaved.Delete(id)
	if _, ok := s.recorded.Load(id); ok {
		if rerr := s.takeBack.end(id); rerr != nil {
			return errors.Join(err, rerr)
		}
		s.recorded.Delete(id)
	}
	return err
}

// resume returns a digest positioned at offset, or nil when there is none.
func (s *hashingStore) resume(ctx context.Context, id string, offset int64) hash.Hash {
	h := sha256.New()
	if offset == 0 {
		return h
	}
	if _, ok := s.stateless.Load(id); ok {
		return nil
	}
	at, state, err := s.states.Load(ctx, id)
	if err != nil || at != offset {
		return nil
	}
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return nil
	}
	return h
}

// checksum returns the hex SHA-256 of the upload's first size bytes, from the
// running digest when it covers exactly that, else by reading the bytes.
func (s *hashingStore) checksum(ctx context.Context, id string, size int64) (string, error) {
	if size == 0 {
		sum := sha256.Sum256(nil)
		return hex.EncodeToString(sum[:]), nil
	}
	if v, ok := s.finished.Load(id); ok { // dropped by Forget, Delete and Terminate
		if d := v.(digest); d.size == size {
			return d.sum, nil
		}
	}
	if h := s.resume(ctx, id, size); h != nil {
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	up, err := s.inner.GetUpload(ctx, id)
	if err != nil {
		return "", fmt.Errorf("checksum %s: %w", id, err)
	}
	r, err := up.GetReader(ctx)
	if err != nil {
		return "", fmt.Errorf("checksum %s: %w", id, err)
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, io.LimitReader(r, size), make([]byte, 1<<20))
	if err != nil {
		return "", fmt.Errorf("checksum %s: %w", id, err)
	}
	if n != size {
		return "", fmt.Errorf("checksum %s: read %d of %d bytes", id, n, size)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
