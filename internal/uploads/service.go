// Package uploads holds Satchel's use cases around files: beginning an
// upload, finishing it (idempotently, in one transaction), one-shot uploads,
// reading, listing and deleting files, and repairing what a crash left half
// done. The HTTP edges (tus, REST, GraphQL) call into it; it never calls them.
package uploads

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/uptrace/bun"

	"satchel/internal/apperr"
	"satchel/internal/storage"
	"satchel/models"
)

// Bytes is what the use cases need of the byte store.
type Bytes interface {
	NewUpload(ctx context.Context, info handler.FileInfo) (handler.Upload, error)
	GetUpload(ctx context.Context, id string) (handler.Upload, error)
	Checksum(ctx context.Context, id string, size int64) (string, error)
	Open(ctx context.Context, id string) (storage.Object, error)
	// Exists reports whether an upload's bytes are stored whole, as the
	// file they are to become (on S3: one object, not a multipart upload).
	Exists(ctx context.Context, id string) (bool, error)
	Delete(ctx context.Context, id string) error
	Forget(ctx context.Context, id string) error
}

// Observer hears about finished uploads (metrics, events). It must not block.
type Observer interface {
	FileFinished(f *models.File, source string)
	// UploadSetAside counts an upload the reconciler could not repair.
	UploadSetAside()
}

// FinishHook adds work to the transaction that commits a file (durable job
// rows, say) and hears when it has committed.
type FinishHook interface {
	// InFinish runs inside the finishing transaction; an error aborts it.
	InFinish(ctx context.Context, tx bun.IDB, f *models.File) error
	// Finished runs after the commit. It must not block.
	Finished(f *models.File)
}

// Service is the upload and file use cases.
type Service struct {
	DB            *bun.DB
	Bytes         Bytes
	Log           *slog.Logger
	PublicURL     string
	MaxUploadSize int64
	UploadTTL     time.Duration
	// StorageQuota is each account's storage quota in bytes unless the
	// account has one of its own (0: none).
	StorageQuota int64
	// MaxPendingUploads caps each key's unfinished uploads; a key may set
	// a lower cap of its own (0: none).
	MaxPendingUploads int
	Observer          Observer
	// Hooks run in and after every finishing transaction.
	Hooks []FinishHook
	// Limiter enforces the keys' uploads-per-minute rules (nil: none).
	Limiter RateLimiter
	// BeforeCommit, when set, runs just before a finishing transaction
	// commits. Crash tests use it to stop the process at that point.
	BeforeCommit func(id string)
	Now          func() time.Time

	commits committer    // group commit of upload rows and files (commit.go)
	rows    pendingCache // recent upload rows (pending.go)
	quotas  quotaCache   // recent usage for the quotas (quotas.go)
	aside   sync.Map     // upload ID -> time the reconciler set it aside (repair.go)
}

// Errors owned by this package.
var (
	ErrFileNotFound   = apperr.New(apperr.NotFound, "file not found")
	ErrUploadNotFound = apperr.New(apperr.NotFound, "upload not found")
	ErrIncomplete     = apperr.New(apperr.BadUserInput, "upload is not complete")
)

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// FileURL is the delivery URL of a file.
func (s *Service) FileURL(id string) string { return s.PublicURL + "/files/" + id }
