// Package images holds the use cases of named image transformations:
// presets per account, durable render jobs written when an image upload
// finishes, a bounded worker pool that renders them after the commit, and
// on-demand rendering (once, whoever asks at the same time) of results that
// are not there yet. Rendering itself is transforms'; bytes are storage's.
package images

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
	"golang.org/x/sync/singleflight"

	"satchel/internal/apperr"
	"satchel/internal/storage"
	"satchel/transforms"
)

// Renderer renders presets (transforms.Renderer).
type Renderer interface {
	Render(ctx context.Context, src []byte, p transforms.Preset) (*transforms.Result, error)
}

// Store is what the use cases need of the byte store.
type Store interface {
	Open(ctx context.Context, id string) (storage.Object, error)
	PutDerived(ctx context.Context, fileID, key string, data []byte) error
	OpenDerived(ctx context.Context, fileID, key string) (storage.Object, error)
	DeleteDerived(ctx context.Context, fileID, prefix string) error
}

// Service is the transformation use cases.
type Service struct {
	DB       *bun.DB
	Store    Store
	Renderer Renderer
	Log      *slog.Logger
	// MaxSourceBytes bounds the originals read into memory to render.
	MaxSourceBytes int64

	group singleflight.Group
	wake  chan struct{}
	// slots bound the renders under way, source in memory included: a
	// render takes its slot before it reads its original, so memory is
	// bounded by the slots, not by the requests.
	slots chan struct{}
	// queued counts on-demand requests waiting for a slot, at most
	// maxQueued; beyond, they are answered 503 with Retry-After.
	queued    atomic.Int64
	maxQueued int64
	queueWait time.Duration
}

// New returns a Service with slots renders at once (the renderer's own
// concurrency) and a queue of QueuePerSlot on-demand requests per slot,
// each waiting up to 30 s; Run starts its workers.
func New(db *bun.DB, store Store, r Renderer, log *slog.Logger, maxSource int64, slots int) *Service {
	slots = max(slots, 1)
	return &Service{
		DB: db, Store: store, Renderer: r, Log: log, MaxSourceBytes: maxSource, wake: make(chan struct{}, 1),
		slots: make(chan struct{}, slots), maxQueued: int64(QueuePerSlot * slots), queueWait: 30 * time.Second,
	}
}

// Errors owned here.
var (
	ErrNoPreset = apperr.New(apperr.NotFound, "no such transformation")
	ErrExists   = apperr.New(apperr.BadUserInput, "a transformation with this name exists")
)
