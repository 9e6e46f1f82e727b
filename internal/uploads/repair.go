package uploads

import (
	"context"
	"errors"
	"fmt"
	"time"

	"satchel/internal/storage"
	"satchel/models"
)

// Reconcile finishes every upload whose bytes are complete but whose File
// was never committed (a crash or a failed finishing hook between the last
// byte and the commit). It is safe to run at any time: Finish is idempotent.
func (s *Service) Reconcile(ctx context.Context) (finished int, err error) {
	after := ""
	for {
		ups, err := models.ListUploadsAfter(ctx, s.DB, after, 200)
		if err != nil {
			return finished, fmt.Errorf("reconcile: %w", err)
		}
		if len(ups) == 0 {
			return finished, nil
		}
		for _, u := range ups {
			after = u.ID
			if u.Partial {
				continue
			}
			if u.Parts > 0 {
				// A multipart session whose parts are all completed but
				// whose file was never assembled (a crash in between).
				if left, err := remaining(ctx, s.DB, &u); err == nil && len(left) == 0 {
					if _, err := s.assemble(ctx, u.ID); err != nil {
						s.Log.Error("reconcile: assemble", "id", u.ID, "err", err)
						continue
					}
					finished++
				}
				continue
			}
			bu, err := s.Bytes.GetUpload(ctx, u.ID)
			if errors.Is(err, storage.ErrNotFound) {
				continue // never started writing; the sweeper expires it
			}
			if err != nil {
				return finished, fmt.Errorf("reconcile %s: %w", u.ID, err)
			}
			info, err := bu.GetInfo(ctx)
			if err != nil || info.SizeIsDeferred || info.Offset != info.Size || info.IsPartial {
				continue
			}
			if _, err := s.Finish(ctx, u.ID); err != nil {
				s.Log.Error("reconcile: finish", "id", u.ID, "err", err)
				continue
			}
			s.Log.Info("reconcile: finished an upload left half done", "id", u.ID)
			finished++
		}
	}
}

// Sweep deletes unfinished uploads past their expiry or whose upload ID was
// spent by another upload (rows and bytes), and forgets tickets spent or
// expired longer than TicketRetention ago.
func (s *Service) Sweep(ctx context.Context) (swept int, err error) {
	s.rows.purge(time.Now())
	n, err := s.sweepBatches(ctx, func() ([]models.Upload, error) {
		return models.ListExpiredUploads(ctx, s.DB, models.Micros(s.now()), 200)
	})
	swept += n
	if err != nil {
		return swept, err
	}
	n, err = s.sweepBatches(ctx, func() ([]models.Upload, error) {
		return models.ListUploadsOfSpentTickets(ctx, s.DB, 200)
	})
	swept += n
	if err != nil {
		return swept, err
	}
	if _, err := models.DeleteTicketsBefore(ctx, s.DB, models.Micros(s.now().Add(-TicketRetention))); err != nil {
		return swept, fmt.Errorf("sweep tickets: %w", err)
	}
	return swept, nil
}

func (s *Service) sweepBatches(ctx context.Context, next func() ([]models.Upload, error)) (swept int, err error) {
	for {
		ups, err := next()
		if err != nil {
			return swept, fmt.Errorf("sweep: %w", err)
		}
		if len(ups) == 0 {
			return swept, nil
		}
		for i := range ups {
			if err := s.drop(ctx, &ups[i]); err != nil {
				return swept, fmt.Errorf("sweep %s: %w", ups[i].ID, err)
			}
			swept++
		}
	}
}
