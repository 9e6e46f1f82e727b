// Package storage is where bytes live: the tusd data store (with a streaming
// SHA-256 wrapped around it, and chunks checked against a client's checksum
// when one is given), the upload locker, and reads for delivery.
package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tus/tusd/v2/pkg/filestore"
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

// NewFile returns the filestore under dir (created if missing), with the
// in-process locker: Open with Kind "file".
func NewFile(dir string) (*Store, error) { return Open(Config{Kind: "file", Dir: dir}) }

// newFile builds the filestore under dir, its running digests on disk
// beside it, and locker as its upload locker.
func newFile(dir string, locker handler.Locker) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create files dir: %w", err)
	}
	fstore := filestore.New(dir)
	fstore.FileModePerm = 0o600
	fstore.DirModePerm = 0o700
	// Digest states live in a directory of their own: creating and
	// removing them then never waits on the uploads' directory lock.
	states := filepath.Join(dir, ".sha256")
	if err := os.MkdirAll(states, 0o700); err != nil {
		return nil, fmt.Errorf("create files dir: %w", err)
	}
	tb := fileTakeBack{files: dir, records: states}
	if err := tb.cutUnverified(); err != nil {
		return nil, err
	}
	hs := &hashingStore{inner: fstore, states: fileStates{dir: states}, takeBack: tb}
	c := handler.NewStoreComposer()
	c.UseCore(hs)
	c.UseTerminater(hs)
	c.UseConcater(hs)
	c.UseLengthDeferrer(hs)
	c.UseLocker(locker)
	return &Store{dir: dir, hashing: hs, composer: c}, nil
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

const hashSuffix = ".sha256"

// fileStates keeps digests in a directory of their own, <id>.sha256.
type fileStates struct{ dir string }

func (f fileStates) path(id string) string { return filepath.Join(f.dir, id+hashSuffix) }

func (f fileStates) Load(_ context.Context, id string) (int64, []byte, error) {
	buf, err := os.ReadFile(f.path(id))
	if err != nil {
		return 0, nil, err
	}
	return decodeState(buf)
}

func (f fileStates) Save(_ context.Context, id string, offset int64, state []byte) error {
	return os.WriteFile(f.path(id), encodeState(offset, state), 0o600)
}

func (f fileStates) Delete(_ context.Context, id string) error {
	err := os.Remove(f.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// DeclareLength fixes the length of an upload created with a deferred length.
func (s *Store) DeclareLength(ctx context.Context, up handler.Upload, length int64) error {
	return s.hashing.AsLengthDeclarableUpload(up).DeclareLength(ctx, length)
}

// Concat appends the bytes of parts, in order, to final (tus
// concatenation). The filestore copies in the kernel (copy_file_range: the
// destination is not opened for appending, which would rule it out) while a
// second goroutine hashes the parts in order, so the assembled file's digest
// is ready without reading it again.
func (s *Store) Concat(ctx context.Context, final handler.Upload, parts []handler.Upload) error {
	finfo, err := final.GetInfo(ctx)
	if err != nil {
		return err
	}
	paths := make([]string, len(parts))
	for i, p := range parts {
		info, err := p.GetInfo(ctx)
		if err != nil {
			return err
		}
		if !ids.Valid(info.ID) {
			return fmt.Errorf("concat: bad part id %q", info.ID)
		}
		paths[i] = filepath.Join(s.dir, info.ID)
	}
	sums := make(chan string, 1)
	go func() {
		h := sha256.New()
		buf := make([]byte, 1<<20)
		for _, p := range paths {
			f, err := os.Open(p)
			if err != nil {
				sums <- ""
				return
			}
			_, err = io.CopyBuffer(h, f, buf)
			f.Close()
			if err != nil {
				sums <- ""
				return
			}
		}
		sums <- hex.EncodeToString(h.Sum(nil))
	}()
	err = s.copyParts(filepath.Join(s.dir, finfo.ID), paths)
	sum := <-sums
	if err != nil {
		return fmt.Errorf("concat %s: %w", finfo.ID, err)
	}
	if sum != "" {
		s.hashing.finished.Store(finfo.ID, digest{size: finfo.Size, sum: sum})
	}
	return nil
}

func (s *Store) copyParts(dstPath string, parts []string) (err error) {
	dst, err := os.OpenFile(dstPath, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := dst.Close(); err == nil {
			err = cerr
		}
	}()
	if _, err := dst.Seek(0, io.SeekEnd); err != nil {
		return err
	}
	for _, p := range parts {
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(dst, src) // *os.File to *os.File: copy_file_range
		src.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// NewLock returns the upload lock for id from the store's locker, the same
// lock tusd takes for every request on that upload.
func (s *Store) NewLock(id string) (handler.Lock, error) {
	return s.composer.Locker.NewLock(id)
}

// Derived results (transformations) live beside the originals, under
// derived/<fileID>/<key>; deleting a file deletes them.
func (s *Store) derivedPath(fileID, key string) (string, bool) {
	if !ids.Valid(fileID) || !validKey(key) {
		return "", false
	}
	return filepath.Join(s.dir, "derived", fileID, key), true
}

// validKey allows keys of [a-z0-9_.-], not starting with a dot.
func validKey(k string) bool {
	if k == "" || len(k) > 128 || k[0] == '.' {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// PutDerived stores a derived object atomically (write, then rename).
func (s *Store) PutDerived(ctx context.Context, fileID, key string, data []byte) error {
	path, ok := s.derivedPath(fileID, key)
	if !ok {
		return fmt.Errorf("put derived: bad key %q/%q", fileID, key)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("put derived: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("put derived: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("put derived: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("put derived: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("put derived: %w", err)
	}
	return nil
}

// OpenDerived opens a derived object.
func (s *Store) OpenDerived(ctx context.Context, fileID, key string) (Object, error) {
	path, ok := s.derivedPath(fileID, key)
	if !ok {
		return nil, ErrNotFound
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	return f, err
}

// DeleteDerived removes a file's derived objects whose key starts with
// prefix ("" removes them all).
func (s *Store) DeleteDerived(ctx context.Context, fileID, prefix string) error {
	if !ids.Valid(fileID) {
		return nil
	}
	dir := filepath.Join(s.dir, "derived", fileID)
	if prefix == "" {
		return os.RemoveAll(dir)
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}
