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
