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
	return &Store{dir: dir, hashing: hs, composer: c}, nil
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
