package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"satchel/internal/ids"
)

// Derived results (transformations) live beside the originals, under
// derived/<fileID>/<key>; deleting a file deletes them.

// PutDerived stores a derived object, whole or not at all.
func (s *Store) PutDerived(ctx context.Context, fileID, key string, data []byte) error {
	if !ids.Valid(fileID) || !validKey(key) {
		return fmt.Errorf("put derived: bad key %q/%q", fileID, key)
	}
	return s.bytes.putDerived(ctx, fileID, key, data)
}

// OpenDerived opens a derived object.
func (s *Store) OpenDerived(ctx context.Context, fileID, key string) (Object, error) {
	if !ids.Valid(fileID) || !validKey(key) {
		return nil, ErrNotFound
	}
	return s.bytes.openDerived(ctx, fileID, key)
}

// DeleteDerived removes a file's derived objects whose key starts with
// prefix ("" removes them all).
func (s *Store) DeleteDerived(ctx context.Context, fileID, prefix string) error {
	if !ids.Valid(fileID) {
		return nil
	}
	return s.bytes.deleteDerived(ctx, fileID, prefix)
}

func (f *fileStore) derivedPath(fileID, key string) string {
	return filepath.Join(f.dir, "derived", fileID, key)
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

// putDerived writes, then renames: a reader sees the whole object or none.
func (f *fileStore) putDerived(_ context.Context, fileID, key string, data []byte) error {
	path := f.derivedPath(fileID, key)
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

func (f *fileStore) openDerived(_ context.Context, fileID, key string) (Object, error) {
	file, err := os.Open(f.derivedPath(fileID, key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	return file, err
}

func (f *fileStore) deleteDerived(_ context.Context, fileID, prefix string) error {
	dir := filepath.Join(f.dir, "derived", fileID)
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
