package storage

import (
	"fmt"

	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"
)

// Config selects the byte store and its parts.
type Config struct {
	// Kind is the store: "file", tusd's filestore under Dir, or "s3",
	// tusd's s3store in the bucket S3 names.
	Kind string
	// Dir is the filestore's directory.
	Dir string
	// Locker locks an upload for the request that writes it (tusd's
	// locker, which the multipart assembly takes too). nil: an in-process
	// locker, right for one process over its own files; instances that
	// share a store need a shared one.
	Locker handler.Locker
	// S3 configures the "s3" store.
	S3 S3Config
}

// S3Config is where an S3 store keeps bytes, and the database-backed
// bookkeeping it needs. Credentials come from the standard AWS environment
// (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ...).
type S3Config struct {
	// Bucket is the bucket (required); it must exist.
	Bucket string
	// Endpoint is an S3-compatible server's URL (addressed path-style);
	// empty for AWS.
	Endpoint string
	// Region is the bucket's region; empty leaves it to the environment.
	Region string
	// Prefix goes before every key, with a slash between; empty for none.
	Prefix string
	// PartSize is the size of the parts uploads are buffered in and sent
	// as (tusd's PreferredPartSize): at least 5 MiB; 0 for 16 MiB.
	PartSize int64
	// TempDir is where processes buffer parts and spool checked chunks,
	// each in a directory named after its pid; the directories of
	// processes that have died are removed at start. Empty:
	// $TMPDIR/satchel-s3.
	TempDir string
	// IDs keeps s3store's name of each unfinished upload beside its row
	// (required).
	IDs BackendIDs
	// States keeps the running digests where every instance finds them
	// (required).
	States HashStates

	// api replaces the S3 client (tests).
	api s3API
}

// Open returns the store cfg selects. It is the one place that chooses
// where bytes live, which locker guards an upload and where the running
// digests of unfinished uploads are kept (beside the bytes for the
// filestore; S3Config.States for S3). Nothing outside this package knows a
// store's layout. An S3 bucket that cannot be reached fails Open.
func Open(cfg Config) (*Store, error) {
	locker := cfg.Locker
	if locker == nil {
		locker = memorylocker.New()
	}
	switch cfg.Kind {
	case "", "file":
		return newFile(cfg.Dir, locker)
	case "s3":
		return newS3(cfg.S3, locker)
	}
	return nil, fmt.Errorf("storage %q: want \"file\" or \"s3\"", cfg.Kind)
}
