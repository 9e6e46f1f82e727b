package uploads

import (
	"context"
	"errors"
	"fmt"
	"time"

	"satchel/internal/apperr"
	"satchel/internal/storage"
	"satchel/models"
)

// Reconcile finishes every upload whose bytes are complete but whose File
// was never committed (a crash or a failed finishing hook between the last
// byte and the commit). It is safe to run at any time: Finish is idempotent.
// Each upload is repaired on its own: one that cannot be read or finished is
// logged, counted (Observer.UploadSetAside) and set aside for an hour, and
// the others are repaired all the same. Only a failure to list the uploads
// stops it.
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
		for i := range ups {
			u := &ups[i]
			after = u.ID
			if u.Partial || s.setAside(u.ID) {
				continue
			}
			done, err := s.repair(ctx, u)
			if err != nil {
				if ctx.Err() != nil {
					return finished, ctx.Err()
				}
				s.putAside(u.ID, err)
				continue
			}
			if done {
				s.Log.InfoContext(ctx, "reconcile: finished an upload left half done", "id", u.ID)
				finished++
			}
		}
	}
}

// repair finishes u if its bytes are complete; done says it did.
func (s *Service) repair(ctx context.Context, u *models.Upload) (done bool, err error) {
	if u.Parts > 0 {
		// A multipart session whose parts are all completed but whose file
		// was never assembled (a crash in between).
		left, err := remaining(ctx, s.DB, u)
		if err != nil || len(left) > 0 {
			return false, err
		}
		if _, err := s.assemble(ctx, u.ID); err != nil {
			if apperr.CodeOf(err) != apperr.Internal {
				s.Log.InfoContext(ctx, "reconcile: refused a multipart upload left half done", "id", u.ID, "reason", err)
				return false, nil
			}
			return false, fmt.Errorf("assemble: %w", err)
		}
		return true, nil
	}
	bu, err := s.Bytes.GetUpload(ctx, u.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil // never started writing; the sweeper expires it
	}
	if err != nil {
		return false, fmt.Errorf("read upload: %w", err)
	}
	info, err := bu.GetInfo(ctx)
	if err != nil {
		return false, fmt.Errorf("read upload info: %w", err)
	}
	if info.SizeIsDeferred || info.Offset != info.Size || info.IsPartial {
		return false, nil
	}
	// Complete by its info is not enough on S3: the file must be there
	// (a multipart upload that vanished reads as complete to s3store).
	ok, err := s.Bytes.Exists(ctx, u.ID)
	if err != nil {
		return false, fmt.Errorf("check its bytes: %w", err)
	}
	if !ok {
		return false, nil
	}
	if _, err := s.Finish(ctx, u.ID); err != nil {
		if apperr.CodeOf(err) != apperr.Internal {
			// Refused for a reason of its own (a limit, a spent upload
			// ID): finishing dropped it.
			s.Log.InfoContext(ctx, "reconcile: refused an upload left half done", "id", u.ID, "reason", err)
			return false, nil
		}
		return false, fmt.Errorf("finish: %w", err)
	}
	return true, nil
}

// asideFor is how long an upload the reconciler could not repair is left
// alone before it is tried again (it expires with its TTL meanwhile).
const asideFor = time.Hour

func (s *Service) setAside(id string) bool {
	v, ok := s.aside.Load(id)
	if !ok {
		return false
	}
	if time.Since(v.(time.Time)) > asideFor {
		s.aside.Delete(id)
		return false
	}
	return true
}

func (s *Service) putAside(id string, err error) {
	s.aside.Store(id, time.Now())
	s.Log.Error("reconcile: set an upload aside", "id", id, "err", err)
	if s.Observer != nil {
		s.Observer.UploadSetAside()
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
		failed := 0
		for i := range ups {
			if err := s.drop(ctx, &ups[i]); err != nil {
				// One upload that cannot be dropped does not stop the rest.
				s.Log.ErrorContext(ctx, "sweep: drop upload", "id", ups[i].ID, "err", err)
				failed++
				continue
			}
			swept++
		}
		if failed == len(ups) {
			return swept, fmt.Errorf("sweep: %d uploads could not be dropped", failed)
		}
	}
}
