// Package images holds the use cases of named image transformations:
// presets per account, durable render jobs written when an image upload
// finishes, a bounded worker pool that renders them after the commit, and
// on-demand rendering (once, whoever asks at the same time) of results that
// are not there yet. Rendering itself is transforms'; bytes are storage's.
package images

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
	"golang.org/x/sync/singleflight"

	"satchel/internal/apperr"
	"satchel/internal/ids"
	"satchel/internal/storage"
	"satchel/models"
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

// QueuePerSlot is how many on-demand requests may wait per render slot. A
// waiting request holds no original (only its connection), so the queue is
// long: a page of thumbnails asked for at once waits its turn rather than
// being refused.
const QueuePerSlot = 32

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

// ErrBusy answers an on-demand render that found every slot taken and the
// queue full (or waited too long for a slot).
var ErrBusy = &apperr.Error{Code: apperr.Unavailable, Message: "the server is busy rendering images; retry shortly", RetryAfter: 2}

// acquire takes a render slot. On-demand requests wait in a bounded queue
// for a bounded time; background jobs wait their turn.
func (s *Service) acquire(ctx context.Context, onDemand bool) (release func(), err error) {
	release = func() { <-s.slots }
	select {
	case s.slots <- struct{}{}:
		return release, nil
	default:
	}
	if onDemand {
		if s.queued.Add(1) > s.maxQueued {
			s.queued.Add(-1)
			return nil, ErrBusy
		}
		defer s.queued.Add(-1)
		t := time.NewTimer(s.queueWait)
		defer t.Stop()
		select {
		case s.slots <- struct{}{}:
			return release, nil
		case <-t.C:
			return nil, ErrBusy
		case <-ctx.Done():
			return nil, ErrBusy
		}
	}
	select {
	case s.slots <- struct{}{}:
		return release, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Errors owned here.
var (
	ErrNoPreset = apperr.New(apperr.NotFound, "no such transformation")
	ErrExists   = apperr.New(apperr.BadUserInput, "a transformation with this name exists")
)

// key is where a preset's result for a file is stored: the version in the
// key means a changed preset never serves an old result.
func key(name string, version int) string { return name + "-v" + strconv.Itoa(version) }

// PresetOf converts a stored preset.
func PresetOf(t *models.Transformation) transforms.Preset {
	return transforms.Preset{
		Name: t.Name, Width: t.Width, Height: t.Height, Fit: transforms.Fit(t.Fit),
		Format: transforms.Format(t.Format), Quality: t.Quality,
		StripMetadata: t.StripMetadata, AutoRotate: t.AutoRotate,
	}
}

func now() int64 { return models.Micros(time.Now()) }

// List returns the account's presets.
func (s *Service) List(ctx context.Context, accountID string) ([]models.Transformation, error) {
	return models.ListTransformations(ctx, s.DB, accountID)
}

// Get returns one preset.
func (s *Service) Get(ctx context.Context, accountID, name string) (*models.Transformation, error) {
	t, err := models.GetTransformation(ctx, s.DB, accountID, name)
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrNoPreset
	}
	return t, err
}

func stored(accountID string, p transforms.Preset) *models.Transformation {
	at := now()
	return &models.Transformation{
		AccountID: accountID, Name: p.Name, Width: p.Width, Height: p.Height, Fit: string(p.Fit),
		Format: string(p.Format), Quality: p.Quality, StripMetadata: p.StripMetadata, AutoRotate: p.AutoRotate,
		Version: 1, CreatedAt: at, UpdatedAt: at,
	}
}

// Create adds a preset.
func (s *Service) Create(ctx context.Context, accountID string, p transforms.Preset) (*models.Transformation, error) {
	if err := p.Validate(); err != nil {
		return nil, clientError(err)
	}
	if _, err := models.GetTransformation(ctx, s.DB, accountID, p.Name); err == nil {
		return nil, ErrExists
	}
	t := stored(accountID, p)
	if err := models.InsertTransformation(ctx, s.DB, t); err != nil {
		if _, gerr := models.GetTransformation(ctx, s.DB, accountID, p.Name); gerr == nil {
			return nil, ErrExists
		}
		return nil, fmt.Errorf("create transformation: %w", err)
	}
	return t, nil
}

// Update changes a preset (found by name): its version grows, so every
// result rendered before is invalid at once; they are deleted behind.
func (s *Service) Update(ctx context.Context, accountID string, p transforms.Preset) (*models.Transformation, error) {
	if err := p.Validate(); err != nil {
		return nil, clientError(err)
	}
	t := stored(accountID, p)
	ok, err := models.UpdateTransformation(ctx, s.DB, t)
	if err != nil {
		return nil, fmt.Errorf("update transformation: %w", err)
	}
	if !ok {
		return nil, ErrNoPreset
	}
	if err := s.dropResults(ctx, accountID, p.Name); err != nil {
		return nil, err
	}
	return s.Get(ctx, accountID, p.Name)
}

// ClearCache invalidates a preset's results without changing it.
func (s *Service) ClearCache(ctx context.Context, accountID, name string) (*models.Transformation, error) {
	if _, err := s.Get(ctx, accountID, name); err != nil {
		return nil, err
	}
	t, err := models.BumpTransformation(ctx, s.DB, accountID, name, now())
	if err != nil {
		return nil, fmt.Errorf("clear transformation cache: %w", err)
	}
	return t, s.dropResults(ctx, accountID, name)
}

// Delete removes a preset and its results.
func (s *Service) Delete(ctx context.Context, accountID, name string) error {
	ok, err := models.DeleteTransformation(ctx, s.DB, accountID, name)
	if err != nil {
		return fmt.Errorf("delete transformation: %w", err)
	}
	if !ok {
		return ErrNoPreset
	}
	return s.dropResults(ctx, accountID, name)
}

// dropResults forgets every render of a preset: job rows now, stored
// results after (they are unreachable already: their key has an old version).
func (s *Service) dropResults(ctx context.Context, accountID, name string) error {
	fileIDs, err := models.DeleteJobsOfPreset(ctx, s.DB, accountID, name)
	if err != nil {
		return fmt.Errorf("drop results: %w", err)
	}
	go func() {
		for _, id := range fileIDs {
			if err := s.Store.DeleteDerived(context.Background(), id, name+"-v"); err != nil {
				s.Log.Warn("drop results", "file", id, "preset", name, "err", err)
			}
		}
	}()
	return nil
}

// IsImage reports whether a media type is worth rendering eagerly.
func IsImage(mime string) bool { return strings.HasPrefix(strings.ToLower(mime), "image/") }

// InFinish writes a pending job per preset of the account when the new file
// is an image, inside the transaction that commits the file.
func (s *Service) InFinish(ctx context.Context, tx bun.IDB, f *models.File) error {
	if !IsImage(f.Mime) {
		return nil
	}
	presets, err := models.ListTransformations(ctx, tx, f.AccountID)
	if err != nil {
		return err
	}
	at := now()
	for _, p := range presets {
		j := &models.TransformJob{FileID: f.ID, Name: p.Name, AccountID: f.AccountID, Version: p.Version,
			Status: models.JobPending, CreatedAt: at, UpdatedAt: at}
		if err := models.UpsertJob(ctx, tx, j); err != nil {
			return err
		}
	}
	return nil
}

// Finished wakes the workers after the commit.
func (s *Service) Finished(f *models.File) {
	if IsImage(f.Mime) {
		s.Wake()
	}
}

// Wake nudges the workers without blocking.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run renders pending jobs with workers goroutines until ctx ends, and
// returns once they have stopped.
func (s *Service) Run(ctx context.Context, workers int) {
	jobs := make(chan models.TransformJob)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				s.runJob(ctx, j)
			}
		}()
	}
	defer wg.Wait()
	defer close(jobs)
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		pending, err := models.ListPendingJobs(ctx, s.DB, 100)
		if err != nil && ctx.Err() == nil {
			s.Log.Error("list render jobs", "err", err)
		}
		for _, j := range pending {
			ok, err := models.ClaimJob(ctx, s.DB, j.FileID, j.Name, now())
			if err != nil || !ok {
				continue
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
		if len(pending) == 100 {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-tick.C:
		}
	}
}

func (s *Service) runJob(ctx context.Context, j models.TransformJob) {
	f, err := models.GetFileAny(ctx, s.DB, j.FileID)
	if err != nil {
		_ = models.DeleteJobsOfFiles(ctx, s.DB, []string{j.FileID}) // the file is gone
		return
	}
	p, err := models.GetTransformation(ctx, s.DB, f.AccountID, j.Name)
	if err != nil {
		return // the preset is gone; its jobs went with it
	}
	if _, err := s.renderShared(ctx, f, p, false); err != nil && apperr.CodeOf(err) == apperr.Internal {
		s.Log.Error("render", "file", f.ID, "preset", p.Name, "err", err)
	}
}

// Requeue puts back jobs whose worker died (claimed long ago).
func (s *Service) Requeue(ctx context.Context) (int64, error) {
	return models.RequeueStaleJobs(ctx, s.DB, models.Micros(time.Now().Add(-10*time.Minute)))
}

// Result returns the file's result for the named preset, rendering it now
// if it is not there yet (concurrent requests wait for the same render).
func (s *Service) Result(ctx context.Context, fileID, name string) (*models.File, *models.Transformation, *models.TransformJob, storage.Object, error) {
	if !ids.Valid(fileID) {
		return nil, nil, nil, nil, apperr.New(apperr.NotFound, "file not found")
	}
	f, err := models.GetFileAny(ctx, s.DB, fileID)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil, nil, nil, apperr.New(apperr.NotFound, "file not found")
	}
	if err != nil {
		return nil, nil, nil, nil, err
	}
	p, err := s.Get(ctx, f.AccountID, name)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	j, err := models.GetJob(ctx, s.DB, fileID, name)
	if err == nil && j.Version == p.Version {
		switch j.Status {
		case models.JobReady:
			if obj, err := s.Store.OpenDerived(ctx, fileID, key(name, p.Version)); err == nil {
				return f, p, j, obj, nil
			}
		case models.JobFailed:
			// A render that failed for the input's sake fails again: answer
			// the recorded error rather than decode a hostile file twice.
			if code := j.Error; code == apperr.NotAnImage || code == apperr.TooLarge {
				return nil, nil, nil, nil, apperr.New(code, failMessage(code))
			}
		}
	}
	if j, err = s.renderShared(ctx, f, p, true); err != nil {
		return nil, nil, nil, nil, err
	}
	obj, err := s.Store.OpenDerived(ctx, fileID, key(name, p.Version))
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("open result: %w", err)
	}
	return f, p, j, obj, nil
}

func failMessage(code string) string {
	if code == apperr.TooLarge {
		return "the image is too large to transform"
	}
	return "the file is not an image that can be transformed"
}

// renderShared renders (file, preset version) once for all callers at the
// same time, stores the result and records it. onDemand says a client is
// waiting (a bounded queue, 503 when full) rather than a background job.
func (s *Service) renderShared(ctx context.Context, f *models.File, p *models.Transformation, onDemand bool) (*models.TransformJob, error) {
	k := f.ID + "/" + key(p.Name, p.Version)
	v, err, _ := s.group.Do(k, func() (any, error) {
		release, err := s.acquire(ctx, onDemand)
		if err != nil {
			return nil, err
		}
		defer release()
		ctx := context.WithoutCancel(ctx) // others may be waiting on this render
		// A render that finished between the caller's look and this flight
		// is not done again.
		if j, err := models.GetJob(ctx, s.DB, f.ID, p.Name); err == nil && j.Version == p.Version && j.Status == models.JobReady {
			if obj, err := s.Store.OpenDerived(ctx, f.ID, key(p.Name, p.Version)); err == nil {
				obj.Close()
				return j, nil
			}
		}
		return s.render(ctx, f, p)
	})
	if err != nil {
		return nil, err
	}
	return v.(*models.TransformJob), nil
}

func (s *Service) render(ctx context.Context, f *models.File, p *models.Transformation) (*models.TransformJob, error) {
	at := now()
	j := &models.TransformJob{FileID: f.ID, Name: p.Name, AccountID: f.AccountID, Version: p.Version, CreatedAt: at, UpdatedAt: at}
	fail := func(err error) (*models.TransformJob, error) {
		j.Status, j.Error = models.JobFailed, apperr.CodeOf(err)
		if uerr := models.UpsertJob(ctx, s.DB, j); uerr != nil {
			s.Log.Warn("record failed render", "file", f.ID, "err", uerr)
		}
		return nil, err
	}
	if s.MaxSourceBytes > 0 && f.Size > s.MaxSourceBytes {
		return fail(apperr.New(apperr.TooLarge, failMessage(apperr.TooLarge)))
	}
	obj, err := s.Store.Open(ctx, f.ID)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", f.ID, err)
	}
	src, err := io.ReadAll(io.LimitReader(obj, f.Size))
	obj.Close()
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", f.ID, err)
	}
	res, err := s.Renderer.Render(ctx, src, PresetOf(p))
	if err != nil {
		return fail(clientError(err))
	}
	if err := s.Store.PutDerived(ctx, f.ID, key(p.Name, p.Version), res.Data); err != nil {
		return nil, fmt.Errorf("render %s: %w", f.ID, err)
	}
	// A delete that ran during the render removed the rows first and the
	// bytes after: if the file is gone now, this result must go too.
	if _, err := models.GetFileAny(ctx, s.DB, f.ID); errors.Is(err, models.ErrNotFound) {
		_ = s.Store.DeleteDerived(ctx, f.ID, "")
		return nil, apperr.New(apperr.NotFound, "file not found")
	}
	j.Status, j.Width, j.Height, j.Size, j.Mime = models.JobReady, res.Width, res.Height, int64(len(res.Data)), res.Mime
	if err := models.UpsertJob(ctx, s.DB, j); err != nil {
		return nil, fmt.Errorf("record render: %w", err)
	}
	return j, nil
}
