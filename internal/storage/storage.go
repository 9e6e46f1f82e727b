// Package storage is where bytes live: the tusd data store (with a streaming
// SHA-256 wrapped around it, and chunks checked against a client's checksum
// when one is given), the upload locker, and reads for delivery. Two stores:
// tusd's filestore under a local folder, and tusd's s3store in an S3 bucket
// (s3.go); Open chooses.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/tus/tusd/v2/pkg/handler"

	"satchel/internal/ids"
)

// ErrNotFound is returned for bytes that do not exist.
var ErrNotFound = errors.New("storage: not found")

// Store is the byte store: a tusd composer for uploads plus direct access for
// delivery, checksums and deletion.
type Store struct {
	hashing  *hashingStore
	composer *handler.StoreComposer
	bytes    backend
	sessions *sessionHashers // the digests of multipart sessions (sessionhash.go)
}

// backend is what differs between the stores beyond tusd's DataStore: the
// whole bytes of an upload, their deletion, reachability, multipart
// sessions and the derived results. IDs and keys are valid when they get
// here.
type backend interface {
	// open opens id's bytes for reading (ErrNotFound when missing).
	open(ctx context.Context, id string) (Object, error)
	// exists reports whether id's bytes are stored whole, as one object.
	exists(ctx context.Context, id string) (bool, error)
	// remove removes id's bytes, the store's bookkeeping of the upload and
	// its derived results; missing parts are fine.
	remove(ctx context.Context, id string) error
	ping(ctx context.Context) error
	// beginSession creates the storage of a session, a file of size
	// bytes; a session that has begun is left as it is.
	beginSession(ctx context.Context, id string, size int64, contentType string) error
	// writePart stores part p of session id from src (p.Size bytes) and
	// returns the store's tag for it.
	writePart(ctx context.Context, id string, p SessionPart, src io.Reader) (tag string, err error)
	// copyPart stores part p of session id from the bytes of upload from.
	copyPart(ctx context.Context, id string, p SessionPart, from string) (tag string, err error)
	// completeSession makes the stored parts the file id (a completed
	// session is fine).
	completeSession(ctx context.Context, id string, size int64, parts []SessionPart) error
	// abortSession drops an unfinished session's storage (none is fine).
	abortSession(ctx context.Context, id string) error
	// readsParts says whether open reads a session's stored parts before
	// it completes.
	readsParts() bool
	// declared follows a deferred length's declaration outside tusd:
	// the upload, complete now, is made whole.
	declared(ctx context.Context, up handler.Upload) error
	putDerived(ctx context.Context, fileID, key string, data []byte) error
	openDerived(ctx context.Context, fileID, key string) (Object, error)
	deleteDerived(ctx context.Context, fileID, prefix string) error
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
	return s.bytes.open(ctx, id)
}

// Exists reports whether the bytes of upload id are stored whole, ready to
// be read as a file. On S3, an upload whose bytes were all stored but whose
// multipart upload was never completed (the process died in between) is
// completed first.
func (s *Store) Exists(ctx context.Context, id string) (bool, error) {
	if !ids.Valid(id) {
		return false, nil
	}
	return s.bytes.exists(ctx, id)
}

// Delete removes an upload's bytes and bookkeeping; missing parts are fine.
func (s *Store) Delete(ctx context.Context, id string) error {
	if !ids.Valid(id) {
		return nil
	}
	s.sessions.drop(id)
	if err := s.hashing.forget(ctx, id); err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	return s.bytes.remove(ctx, id)
}

// Forget drops the running digest of an upload (finished, or starting
// over), or what this process holds of a session's.
func (s *Store) Forget(ctx context.Context, id string) error {
	s.sessions.drop(id)
	return s.hashing.forget(ctx, id)
}

// Ping checks that the store is reachable and writable.
func (s *Store) Ping(ctx context.Context) error { return s.bytes.ping(ctx) }

// DeclareLength fixes the length of an upload created with a deferred length.
func (s *Store) DeclareLength(ctx context.Context, up handler.Upload, length int64) error {
	if err := s.hashing.AsLengthDeclarableUpload(up).DeclareLength(ctx, length); err != nil {
		return err
	}
	return s.bytes.declared(ctx, unwrap(up))
}

// NewLock returns the upload lock for id from the store's locker, the same
// lock tusd takes for every request on that upload.
func (s *Store) NewLock(id string) (handler.Lock, error) {
	return s.composer.Locker.NewLock(id)
}
