// Package storage is where bytes live: the tusd data store (with a streaming
// SHA-256 wrapped around it, and chunks checked against a client's checksum
// when one is given), the upload locker, and reads for delivery.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tus/tusd/v2/pkg/handler"

	"satchel/internal/ids"
)

// ErrNotFound is returned for bytes that do not exist.
var ErrNotFound = errors.New("storage: not found")

// Store is the byte store: a tusd composer for uploads plus direct access for
// delivery, checksums and deletion.
type Store struct {
	dir      string
	hashing  *hashingStore
	composer *handler.StoreComposer
}

// Composer is the tusd store composer (core, terminater, concater,
// length deferrer, locker).
func (s *Store) Composer() *handler.StoreComposer { return s.composer }

// NewUpload creates an upload directly (for one-shot uploads).
func (s *Store) NewUpload(ctx context.Context, info handler.FileInfo) (handler.Upload, error) {
	return s.hashing.NewUpload(ctx, info)
}

// GetUpload returns an upload (nil, ErrNotFound when missing).
func (s *Store) GetUpload(ctx context.Context, id string) (handler.Upload, error) {
	if !ids.Valid(id) {
		return nil, ErrNotFound
	}
	up, err := s.hashing.GetUpload(ctx, id)
	if errors.Is(err, handler.ErrNotFound) {
		return nil, ErrNotFound
	}
	return up, err
}

// Checksum returns the hex SHA-256 of the upload's first size bytes.
func (s *Store) Checksum(ctx context.Context, id string, size int64) (string, error) {
	return s.hashing.checksum(ctx, id, size)
}

// Object is an open stored file, for http.ServeContent.
type Object interface {
	io.ReadSeekCloser
}

// Open opens the bytes of id for reading.
func (s *Store) Open(ctx context.Context, id string) (Object, error) {
	if !ids.Valid(id) {
		return nil, ErrNotFound
	}
	f, err := os.Open(filepath.Join(s.dir, id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	return f, err
}

// Delete removes an upload's bytes and bookkeeping; missing parts are fine.
func (s *Store) Delete(ctx context.Context, id string) error {
	if !ids.Valid(id) {
		return nil
	}
	if err := s.hashing.forget(ctx, id); err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	for _, p := range []string{id, id + ".info"} {
		if err := os.Remove(filepath.Join(s.dir, p)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete %s: %w", p, err)
		}
	}
	return s.DeleteDerived(ctx, id, "")
}

// Forget drops the running digest of an upload (finished, or starting over).
func (s *Store) Forget(ctx context.Context, id string) error {
	return s.hashing.forget(ctx, id)
}

// Ping checks that the store is reachable and writable.
func (s *Store) Ping(ctx context.Context) error {
	f, err := os.CreateTemp(s.dir, ".ping-*")
	if err != nil {
		return fmt.Errorf("storage not writable: %w", err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// DeclareLength fixes the length of an upload created with a deferred length.
func (s *Store) DeclareLength(ctx context.Context, up handler.Upload, length int64) error {
	return s.hashing.AsLengthDeclarableUpload(up).DeclareLength(ctx, length)
}

// NewLock returns the upload lock for id from the store's locker, the same
// lock tusd takes for every request on that upload.
func (s *Store) NewLock(id string) (handler.Lock, error) {
	return s.composer.Locker.NewLock(id)
}
