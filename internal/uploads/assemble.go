package uploads

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/uptrace/bun"

	"satchel/internal/apperr"
	"satchel/internal/auth"
	"satchel/internal/storage"
	"satchel/models"
)

// CompletePart confirms a part with the ETag its upload answered. When it
// was the last, the file is assembled and returned.
func (s *Service) CompletePart(ctx context.Context, p *auth.Principal, fileID string, index int, etag string) ([]int, *models.File, error) {
	up, done, err := s.session(ctx, p, fileID)
	if err != nil {
		return nil, nil, err
	}
	if done != nil {
		return []int{}, done, nil
	}
	if index < 0 || index >= up.Parts {
		return nil, nil, ErrNoSuchPart
	}
	part, err := models.GetPart(ctx, s.DB, fileID, index)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil, apperr.Newf(apperr.BadUserInput, "part %d has no bytes yet: ask uploadPart for its URL and send them", index)
	}
	if err != nil {
		return nil, nil, err
	}
	want := part.ETag
	if part.CompletedAt == nil {
		if part.SHA256 == "" && part.TusUpload {
			// Its tus upload may be complete without its bytes in the
			// session: a crash before they were copied.
			if err := s.recoverTusPart(ctx, part); err != nil {
				return nil, nil, err
			}
		}
		if part.SHA256 == "" {
			return nil, nil, apperr.Newf(apperr.BadUserInput, "part %d has no bytes yet: send them to its uploadUrl", index)
		}
		want = `"` + part.SHA256 + `"`
	}
	if NormalizeETag(etag) != NormalizeETag(want) {
		return nil, nil, apperr.New(apperr.BadUserInput, "the ETag does not match the part's bytes")
	}
	var left []int
	err = s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// Lock the session row: concurrent completions of the last two parts
		// must see each other, so exactly one of them sees none remaining.
		if err := models.LockSession(ctx, tx, up.ID); err != nil {
			return err
		}
		if part.CompletedAt == nil {
			// Only the bytes whose ETag was checked: a part being sent
			// again has none until they are all stored.
			ok, err := models.CompletePart(ctx, tx, fileID, index, want, part.SHA256, models.Micros(s.now()))
			if err != nil {
				return err
			}
			if !ok {
				if again, err := models.GetPart(ctx, tx, fileID, index); err != nil || again.CompletedAt == nil || again.ETag != want {
					return errPartChanged
				}
			}
		}
		left, err = remaining(ctx, tx, up)
		return err
	})
	if errors.Is(err, errPartChanged) {
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, fmt.Errorf("complete part: %w", err)
	}
	if len(left) > 0 {
		return left, nil, nil
	}
	f, err := s.assemble(ctx, fileID)
	if err != nil {
		return nil, nil, err
	}
	return []int{}, f, nil
}

var errPartChanged = apperr.New(apperr.BadUserInput, "the part's bytes are being replaced: complete it with the ETag its last upload answered")

// recoverTusPart copies into the session the bytes of a part's tus upload
// that is complete but was never copied (the process died between its last
// byte and the copy).
func (s *Service) recoverTusPart(ctx context.Context, part *models.Part) error {
	unlock, err := s.lock(ctx, part.UploadID, 20*time.Second, "another request is writing this part")
	if err != nil {
		return err
	}
	defer unlock()
	again, err := models.GetPart(ctx, s.DB, part.FileID, part.Index)
	if err != nil {
		return err
	}
	*part = *again
	if part.SHA256 != "" || !part.TusUpload || part.CompletedAt != nil {
		return nil
	}
	if _, err := s.storePart(ctx, part, func() (storage.SessionPart, error) { return s.tusPartBytes(ctx, part) }); err != nil {
		if apperr.CodeOf(err) == apperr.BadUserInput {
			return nil // not complete: the part has no bytes yet
		}
		return err
	}
	return nil
}

// assemble completes a session whose parts are all completed: the store
// makes them the file (nothing to copy: they were written in place) and
// gives its SHA-256, then the file is finished. It is idempotent and holds
// the session's lock.
func (s *Service) assemble(ctx context.Context, fileID string) (*models.File, error) {
	mb := s.Bytes.(MultipartBytes)
	unlock, err := s.lock(ctx, fileID, time.Minute, "the file is being assembled; ask again")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if f, err := models.GetFileAny(ctx, s.DB, fileID); err == nil {
		return f, nil
	}
	up, err := s.Pending(ctx, fileID)
	if err != nil {
		return nil, err
	}
	parts, err := models.ListParts(ctx, s.DB, fileID)
	if err != nil {
		return nil, err
	}
	if len(parts) != up.Parts {
		return nil, apperr.Newf(apperr.BadUserInput, "%d of the %d parts have no bytes yet", up.Parts-len(parts), up.Parts)
	}
	stored := make([]storage.SessionPart, len(parts))
	for i := range parts {
		part := &parts[i]
		if part.CompletedAt == nil {
			return nil, apperr.Newf(apperr.BadUserInput, "part %d is not completed", part.Index)
		}
		stored[i] = sessionPart(part)
		if part.SHA256 != "" {
			continue
		}
		// Completed before a part's bytes went straight to its session
		// (a session begun before the upgrade): its tus upload holds them.
		if stored[i], err = s.tusPartBytes(ctx, part); err != nil {
			return nil, fmt.Errorf("assemble %s: part %d: %w", fileID, part.Index, err)
		}
	}
	sum, err := mb.CompleteSession(ctx, fileID, up.Size, stored)
	if err != nil {
		return nil, fmt.Errorf("assemble %s: %w", fileID, err)
	}
	info := handler.FileInfo{ID: fileID, Size: up.Size, Offset: up.Size, MetaData: handler.MetaData{}}
	f, err := s.finish(ctx, fileID, "multipart", &info, sum)
	if err != nil {
		if apperr.CodeOf(err) != apperr.Internal {
			// Refused for good (its type, a limit, the quota): the
			// session's file is gone, and its parts go with it.
			s.dropParts(context.WithoutCancel(ctx), fileID, parts)
		}
		return nil, err
	}
	s.dropParts(context.WithoutCancel(ctx), fileID, parts)
	return f, nil
}

// dropParts deletes a session's parts: the bytes of those that have a tus
// upload, then the parts' upload rows and their rows, a statement each.
func (s *Service) dropParts(ctx context.Context, fileID string, parts []models.Part) {
	for _, part := range parts {
		s.rows.forget(part.UploadID)
		if !part.TusUpload {
			continue
		}
		if err := s.Bytes.Delete(ctx, part.UploadID); err != nil {
			s.Log.WarnContext(ctx, "drop a part's tus upload", "id", part.UploadID, "err", err)
		}
	}
	if err := models.DeletePartUploads(ctx, s.DB, fileID); err != nil {
		s.Log.WarnContext(ctx, "drop part uploads", "id", fileID, "err", err)
		return
	}
	if err := models.DeleteParts(ctx, s.DB, fileID); err != nil {
		s.Log.WarnContext(ctx, "drop part rows", "id", fileID, "err", err)
	}
}
