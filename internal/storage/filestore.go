package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tus/tusd/v2/pkg/filestore"
	"github.com/tus/tusd/v2/pkg/handler"
)

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
	// A session's digest is one process's: the filestore is one machine's.
	return &Store{hashing: hs, composer: c, bytes: &fileStore{dir: dir}, sessions: newSessionHashers(nil)}, nil
}

// fileStore keeps each upload's bytes in the file <dir>/<id> (beside tusd's
// <id>.info) and derived results under <dir>/derived/<id>/.
type fileStore struct{ dir string }

var _ backend = (*fileStore)(nil)

func (f *fileStore) open(_ context.Context, id string) (Object, error) {
	file, err := os.Open(filepath.Join(f.dir, id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	return file, err
}

func (f *fileStore) exists(_ context.Context, id string) (bool, error) {
	_, err := os.Stat(filepath.Join(f.dir, id))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

func (f *fileStore) remove(ctx context.Context, id string) error {
	for _, p := range []string{id, id + ".info"} {
		if err := os.Remove(filepath.Join(f.dir, p)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete %s: %w", p, err)
		}
	}
	return f.deleteDerived(ctx, id, "")
}

func (f *fileStore) ping(context.Context) error {
	file, err := os.CreateTemp(f.dir, ".ping-*")
	if err != nil {
		return fmt.Errorf("storage not writable: %w", err)
	}
	name := file.Name()
	file.Close()
	return os.Remove(name)
}

// declared has nothing to do: the file is whole as it is written.
func (f *fileStore) declared(context.Context, handler.Upload) error { return nil }

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
