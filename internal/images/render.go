package images

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"satchel/internal/apperr"
	"satchel/internal/ids"
	"satchel/internal/storage"
	"satchel/models"
)

// QueuePerSlot is how many on-demand requests may wait per render slot. A
// waiting request holds no original (only its connection), so the queue is
// long: a page of thumbnails asked for at once waits its turn rather than
// being refused.
const QueuePerSlot = 32

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

// key is where a preset's result for a file is stored: the version in the
// key means a changed preset never serves an old result.
func key(name string, version int) string { return name + "-v" + strconv.Itoa(version) }

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
			s.Log.WarnContext(ctx, "record failed render", "file", f.ID, "err", uerr)
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
