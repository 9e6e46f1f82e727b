package storage

import (
	"fmt"

	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"
)

// Config selects the byte store and its parts.
type Config struct {
	// Kind is SATCHEL_STORAGE: "file", the tusd filestore under Dir.
	Kind string
	// Dir is the filestore's directory.
	Dir string
	// Locker locks an upload for the request that writes it (tusd's
	// locker, which the multipart assembly takes too). nil: an in-process
	// locker, right for one process over its own files; instances that
	// share a store need a shared one.
	Locker handler.Locker
}

// Open returns the store cfg selects. It is the one place that chooses
// where bytes live, which locker guards an upload and where the running
// digests of unfinished uploads are kept (beside the bytes, for the
// filestore). Nothing outside this package knows a store's layout.
func Open(cfg Config) (*Store, error) {
	locker := cfg.Locker
	if locker == nil {
		locker = memorylocker.New()
	}
	switch cfg.Kind {
	case "", "file":
		return newFile(cfg.Dir, locker)
	}
	return nil, fmt.Errorf("storage %q: only \"file\" is supported", cfg.Kind)
}
