package uploads

import (
	"context"
	"errors"
	"fmt"

	"github.com/tus/tusd/v2/pkg/handler"

	"satchel/models"
)

var errAlreadyFinished = errors.New("already finished")

// Finish turns a complete upload into a File: one transaction removes the
// unfinished row and inserts the file with its digest. It is idempotent:
// finishing a finished upload returns its File. A partial upload (a part of
// a concatenation) has no File: Finish returns nil, nil for it.
func (s *Service) Finish(ctx context.Context, id string) (*models.File, error) {
	return s.finish(ctx, id, "tus", nil, "")
}

// FinishWritten is Finish for the caller that holds the upload's lock and
// has just written its last bytes: info is the store's description of the
// upload as of that write, which spares reading it again.
func (s *Service) FinishWritten(ctx context.Context, info handler.FileInfo) (*models.File, error) {
	return s.finish(ctx, info.ID, "tus", &info, "")
}

// finish commits upload id; info, when the caller has it, describes its
// bytes (else the store is asked), and sum, when the caller computed it (a
// multipart session's), is their SHA-256 (else the store's running digest,
// or the bytes read again).
func (s *Service) finish(ctx context.Context, id, source string, info *handler.FileInfo, sum string) (*models.File, error) {
	up, err := s.pending(ctx, id)
	if errors.Is(err, ErrUploadNotFound) {
		// Finished already (by a retry, the reconciler or a concurrent
		// finisher): then the upload is its File, not unknown.
		if f, ferr := models.GetFileAny(ctx, s.DB, id); ferr == nil {
			return f, nil
		}
	}
	if err != nil {
		return nil, err
	}
	if up.Partial {
		return nil, nil
	}
	if info == nil {
		bu, err := s.Bytes.GetUpload(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("finish %s: %w", id, err)
		}
		fi, err := bu.GetInfo(ctx)
		if err != nil {
			return nil, fmt.Errorf("finish %s: %w", id, err)
		}
		info = &fi
	}
	if info.SizeIsDeferred || info.Offset != info.Size {
		return nil, ErrIncomplete
	}
	if err := OverBound(up, info.Size); err != nil {
		// Only a deferred length can get here; nothing over a limit commits.
		s.dropUpload(context.WithoutCancel(ctx), id)
		return nil, err
	}
	mt := up.Mime
	if mt == "" || len(up.MimeRules) > 0 {
		head, err := s.readHead(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("finish %s: %w", id, err)
		}
		if mt, err = ContentType(up.MimeRules, up.Mime, head); err != nil {
			s.dropUpload(context.WithoutCancel(ctx), id)
			return nil, err
		}
	}
	if sum == "" {
		if sum, err = s.Bytes.Checksum(ctx, id, info.Size); err != nil {
			return nil, fmt.Errorf("finish %s: %w", id, err)
		}
	}
	name := up.Name
	if name == "" {
		name = defaultFileName
	}
	f := &models.File{
		ID: id, AccountID: up.AccountID, Name: name, Mime: mt, Size: info.Size, SHA256: sum,
		Tags: up.Tags, UploadedAt: models.Micros(s.now()),
	}
	err = s.commit(&commitItem{file: f, ticket: up.TicketID})
	if errors.Is(err, errAlreadyFinished) {
		s.rows.forget(id)
		if f, err := models.GetFileAny(ctx, s.DB, id); err == nil {
			return f, nil
		}
		return nil, ErrUploadNotFound
	}
	if errors.Is(err, ErrTicketUsed) || errors.Is(err, ErrTicketRevoked) || errors.Is(err, ErrQuotaExceeded) {
		// This upload can never finish: its upload ID was spent by another
		// upload or revoked, or its file does not fit in the quota.
		s.dropUpload(context.WithoutCancel(ctx), id)
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("finish %s: %w", id, err)
	}
	s.addUse(f.AccountID, f.Size)
	// Side effects run only after the commit.
	s.rows.forget(id)
	_ = s.Bytes.Forget(ctx, id)
	for _, part := range info.PartialUploads {
		s.dropUpload(ctx, part)
	}
	if s.Observer != nil {
		s.Observer.FileFinished(f, source)
	}
	for _, h := range s.Hooks {
		h.Finished(f)
	}
	return f, nil
}
