package images

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"satchel/internal/apperr"
	"satchel/models"
)

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
			s.Log.ErrorContext(ctx, "list render jobs", "err", err)
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
		s.Log.ErrorContext(ctx, "render", "file", f.ID, "preset", p.Name, "err", err)
	}
}

// Requeue puts back jobs whose worker died (claimed long ago).
func (s *Service) Requeue(ctx context.Context) (int64, error) {
	return models.RequeueStaleJobs(ctx, s.DB, models.Micros(time.Now().Add(-10*time.Minute)))
}
