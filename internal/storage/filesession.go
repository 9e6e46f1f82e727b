package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// A session on the filestore is its file, <dir>/<id>, created at its full
// size when the session begins (sparse: nothing is allocated until parts
// arrive) and written part by part at the parts' offsets. Concurrent parts
// write disjoint ranges of it, each through a descriptor of its own. The
// session has no tusd info: it is not a tus upload.

func (f *fileStore) beginSession(_ context.Context, id string, size int64, _ string) error {
	file, err := os.OpenFile(filepath.Join(f.dir, id), os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	st, err := file.Stat()
	if err == nil && st.Size() != size {
		err = file.Truncate(size)
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	return err
}

// openSession opens the session's file for writing at an offset.
func (f *fileStore) openSession(id string, offset int64) (*os.File, error) {
	file, err := os.OpenFile(filepath.Join(f.dir, id), os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("session %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if _, err := file.Seek(offset, io.SeekStart); err != nil {
		file.Close()
		return nil, err
	}
	return file, nil
}

// writePart writes src at the part's offset: pwrite through an
// io.OffsetWriter, which the hashing reader feeds with large buffers.
func (f *fileStore) writePart(_ context.Context, id string, p SessionPart, src io.Reader) (string, error) {
	file, err := f.openSession(id, 0)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(io.NewOffsetWriter(file, p.Offset), src)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	return "", err
}

// copyPart copies the upload's file into the session's at the part's
// offset, in the kernel (copy_file_range, which *os.File's ReadFrom uses
// between two files: the destination's own descriptor, positioned at the
// offset, not opened for appending).
func (f *fileStore) copyPart(_ context.Context, id string, p SessionPart, from string) (string, error) {
	src, err := os.Open(filepath.Join(f.dir, from))
	if err != nil {
		return "", err
	}
	defer src.Close()
	dst, err := f.openSession(id, p.Offset)
	if err != nil {
		return "", err
	}
	n, err := io.Copy(dst, io.LimitReader(src, p.Size))
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != p.Size {
		err = fmt.Errorf("copied %d of %d bytes", n, p.Size)
	}
	return "", err
}

// completeSession has nothing to do: the file is whole once its parts are
// written.
func (f *fileStore) completeSession(_ context.Context, id string, size int64, _ []SessionPart) error {
	st, err := os.Stat(filepath.Join(f.dir, id))
	if err != nil {
		return err
	}
	if st.Size() != size {
		return fmt.Errorf("the file has %d bytes, not %d", st.Size(), size)
	}
	return nil
}

func (f *fileStore) abortSession(_ context.Context, id string) error {
	err := os.Remove(filepath.Join(f.dir, id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// readsParts: the file is readable as soon as a part is written (from the
// page cache, most likely).
func (f *fileStore) readsParts() bool { return true }
