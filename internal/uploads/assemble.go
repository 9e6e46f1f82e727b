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
		if want, err = s.PartETag(ctx, part.UploadID); err != nil {
			return nil, nil, err
		}
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
		if err := models.CompletePart(ctx, tx, fileID, index, want, models.Micros(s.now())); err != nil {
			return err
		}
		left, err = remaining(ctx, tx, up)
		return err
	})
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

// assemble concatenates a session's completed parts into the final upload
// and finishes it. It is idempotent and holds the final upload's lock.
func (s *Service) assemble(ctx context.Context, fileID string) (*models.File, error) {
	mb := s.Bytes.(MultipartBytes)
	lock, err := mb.NewLock(fileID)
	if err != nil {
		return nil, err
	}
	lctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := lock.Lock(lctx, func() {}); err != nil {
		return nil, apperr.New(apperr.Locked, "the file is being assembled; ask again")
	}
	defer lock.Unlock()
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
	partIDs := make([]string, len(parts))
	uploads := make([]handler.Upload, len(parts))
	for i, part := range parts {
		if part.CompletedAt == nil {
			return nil, apperr.Newf(apperr.BadUserInput, "part %d is not completed", part.Index)
		}
		partIDs[i] = part.UploadID
		if uploads[i], err = s.Bytes.GetUpload(ctx, part.UploadID); err != nil {
			return nil, fmt.Errorf("assemble %s: part %d: %w", fileID, part.Index, err)
		}
	}
	final, err := s.Bytes.NewUpload(ctx, handler.FileInfo{
		ID: fileID, Size: up.Size, IsFinal: true, PartialUploads: partIDs, MetaData: handler.MetaData{},
	})
	if err != nil {
		return nil, fmt.Errorf("assemble %s: %w", fileID, err)
	}
	if err := mb.Concat(ctx, final, uploads); err != nil {
		return nil, fmt.Errorf("assemble %s: %w", fileID, err)
	}
	f, err := s.finish(ctx, fileID, "multipart", nil)
	if err != nil {
		if apperr.CodeOf(err) != apperr.Internal {
			// Refused for good (its type, a limit, the quota): the
			// session's file is gone, and its parts go with it.
			for _, id := range partIDs {
				s.dropUpload(context.WithoutCancel(ctx), id)
			}
			if derr := models.DeleteParts(context.WithoutCancel(ctx), s.DB, fileID); derr != nil {
				s.Log.WarnContext(ctx, "assemble: drop part rows", "id", fileID, "err", derr)
			}
		}
		return nil, err
	}
	if err := models.DeleteParts(context.WithoutCancel(ctx), s.DB, fileID); err != nil {
		s.Log.WarnContext(ctx, "assemble: drop part rows", "id", fileID, "err", err)
	}
	return f, nil
}
