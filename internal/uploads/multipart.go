package uploads

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/uptrace/bun"

	"satchel/internal/apperr"
	"satchel/internal/auth"
	"satchel/internal/ids"
	"satchel/models"
)

// Multipart sizes: parts of 5 MiB, the last one shorter.
const (
	PartSize = 5 << 20
	MaxParts = 10000
)

// PartCount is the number of parts of a file of size bytes (an empty file
// has one, empty, part).
func PartCount(size int64) int {
	if size <= 0 {
		return 1
	}
	return int((size + PartSize - 1) / PartSize)
}

// PartRange is the inclusive byte range of part i of a file of size bytes.
func PartRange(size int64, i int) (start, end int64) {
	start = int64(i) * PartSize
	end = min(start+PartSize, size) - 1
	return start, end
}

// MultipartBytes is what multipart sessions need of the store beyond Bytes.
type MultipartBytes interface {
	Concat(ctx context.Context, final handler.Upload, parts []handler.Upload) error
	NewLock(id string) (handler.Lock, error)
}

// Errors of multipart sessions.
var (
	ErrSessionNotFound = apperr.New(apperr.NotFound, "multipart upload not found")
	ErrNoSuchPart      = apperr.New(apperr.BadUserInput, "no such part")
)

// PartURL is where a part's bytes go (its tus upload URL).
func (s *Service) PartURL(p *models.Part) string { return s.PublicURL + "/uploads/" + p.UploadID }

// BeginMultipart starts a multipart session for a file of in.Size bytes: the
// final upload's row, and one partial upload per part, created empty.
func (s *Service) BeginMultipart(ctx context.Context, p *auth.Principal, in BeginInput) (string, []models.Part, error) {
	if in.Size < 0 {
		return "", nil, apperr.New(apperr.BadUserInput, "fileSize must not be negative")
	}
	n := PartCount(in.Size)
	if n > MaxParts {
		return "", nil, apperr.Newf(apperr.TooLarge, "at most %d parts of %d bytes", MaxParts, PartSize)
	}
	if _, ok := s.Bytes.(MultipartBytes); !ok {
		return "", nil, errors.New("multipart: the store cannot concatenate")
	}
	in.Partial, in.PartialIDs = false, nil
	final, err := s.Begin(ctx, p, in)
	if err != nil {
		return "", nil, err
	}
	parts := make([]models.Part, n)
	rows := make([]models.Upload, n)
	for i := range parts {
		start, end := PartRange(in.Size, i)
		parts[i] = models.Part{FileID: final.ID, Index: i, UploadID: ids.New(), RangeStart: start, RangeEnd: end}
		rows[i] = models.Upload{
			ID: parts[i].UploadID, AccountID: final.AccountID, KeyID: final.KeyID, Tags: []models.Tag{},
			Size: parts[i].Size(), Partial: true, SessionID: final.ID,
			CreatedAt: final.CreatedAt, ExpiresAt: final.ExpiresAt,
		}
	}
	err = s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewUpdate().Model((*models.Upload)(nil)).Set("parts = ?", n).Where("id = ?", final.ID).Exec(ctx); err != nil {
			return err
		}
		for i := 0; i < n; i += 500 {
			batch := rows[i:min(i+500, n)]
			if _, err := tx.NewInsert().Model(&batch).Exec(ctx); err != nil {
				return err
			}
			if err := models.InsertParts(ctx, tx, parts[i:min(i+500, n)]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.rows.forget(final.ID)
		return "", nil, fmt.Errorf("begin multipart: %w", err)
	}
	final.Parts = n
	s.rows.put(final, time.Now())
	for _, part := range parts {
		if _, err := s.Bytes.NewUpload(ctx, handler.FileInfo{ID: part.UploadID, Size: part.Size(), IsPartial: true, MetaData: handler.MetaData{}}); err != nil {
			return "", nil, fmt.Errorf("begin multipart: create part: %w", err)
		}
	}
	return final.ID, parts, nil
}

// session loads p's multipart session for fileID. done is the File when the
// session has already been assembled.
func (s *Service) session(ctx context.Context, p *auth.Principal, fileID string) (up *models.Upload, done *models.File, err error) {
	if !ids.Valid(fileID) {
		return nil, nil, ErrSessionNotFound
	}
	up, err = models.GetUpload(ctx, s.DB, fileID)
	if err == nil && up.AccountID == p.AccountID && up.Parts > 0 {
		return up, nil, nil
	}
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return nil, nil, err
	}
	if f, ferr := models.GetFile(ctx, s.DB, p.AccountID, fileID); ferr == nil {
		return nil, f, nil
	}
	return nil, nil, ErrSessionNotFound
}

// Part returns one part of p's session.
func (s *Service) Part(ctx context.Context, p *auth.Principal, fileID string, index int) (*models.Part, error) {
	_, done, err := s.session(ctx, p, fileID)
	if err != nil {
		return nil, err
	}
	if done != nil {
		return nil, apperr.New(apperr.NotFound, "the multipart upload is complete")
	}
	part, err := models.GetPart(ctx, s.DB, fileID, index)
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrNoSuchPart
	}
	return part, err
}

// RemainingParts lists the parts of p's session not yet completed.
func (s *Service) RemainingParts(ctx context.Context, p *auth.Principal, fileID string) ([]int, error) {
	_, done, err := s.session(ctx, p, fileID)
	if err != nil || done != nil {
		return []int{}, err
	}
	return models.RemainingParts(ctx, s.DB, fileID)
}

// NormalizeETag strips quotes and a weak marker from an ETag.
func NormalizeETag(etag string) string {
	etag = strings.TrimSpace(etag)
	etag = strings.TrimPrefix(etag, "W/")
	return strings.Trim(etag, `"`)
}

// PartETag is the ETag of a completely uploaded part: its quoted SHA-256.
func (s *Service) PartETag(ctx context.Context, uploadID string) (string, error) {
	bu, err := s.Bytes.GetUpload(ctx, uploadID)
	if err != nil {
		return "", fmt.Errorf("part etag: %w", err)
	}
	info, err := bu.GetInfo(ctx)
	if err != nil {
		return "", fmt.Errorf("part etag: %w", err)
	}
	if info.SizeIsDeferred || info.Offset != info.Size {
		return "", apperr.Newf(apperr.BadUserInput, "the part has %d of its %d bytes", info.Offset, info.Size)
	}
	sum, err := s.Bytes.Checksum(ctx, uploadID, info.Size)
	if err != nil {
		return "", err
	}
	return `"` + sum + `"`, nil
}

// PutPart stores a part's bytes from one request, replacing whatever an
// earlier attempt left, and returns its ETag. The part's URL is the
// capability, as for any tus upload.
func (s *Service) PutPart(ctx context.Context, uploadID string, length int64, body io.Reader) (string, error) {
	if !ids.Valid(uploadID) {
		return "", ErrUploadNotFound
	}
	part, err := models.GetPartByUpload(ctx, s.DB, uploadID)
	if errors.Is(err, models.ErrNotFound) {
		if _, perr := s.Pending(ctx, uploadID); perr == nil {
			return "", apperr.New(apperr.MethodNotAllowed, "PUT takes the parts of multipart uploads; send tus PATCH requests")
		}
		return "", ErrUploadNotFound
	}
	if err != nil {
		return "", err
	}
	if part.CompletedAt != nil {
		return "", apperr.New(apperr.BadUserInput, "this part is already completed")
	}
	size := part.Size()
	if length < 0 {
		return "", apperr.Newf(apperr.BadUserInput, "Content-Length is required: this part is %d bytes", size)
	}
	if length != size {
		return "", apperr.Newf(apperr.BadUserInput, "this part is %d bytes, not %d", size, length)
	}
	mb := s.Bytes.(MultipartBytes)
	lock, err := mb.NewLock(uploadID)
	if err != nil {
		return "", err
	}
	lctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := lock.Lock(lctx, func() {}); err != nil {
		return "", apperr.New(apperr.Locked, "another request is writing this part")
	}
	defer lock.Unlock()
	// Start over: creating the upload again empties it.
	_ = s.Bytes.Forget(ctx, uploadID)
	bu, err := s.Bytes.NewUpload(ctx, handler.FileInfo{ID: uploadID, Size: size, IsPartial: true, MetaData: handler.MetaData{}})
	if err != nil {
		return "", fmt.Errorf("put part: %w", err)
	}
	n, err := bu.WriteChunk(ctx, 0, io.LimitReader(body, size))
	if err != nil || n != size {
		return "", apperr.Newf(apperr.BadUserInput, "the body ended after %d of %d bytes", n, size)
	}
	return s.PartETag(ctx, uploadID)
}

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
	part, err := models.GetPart(ctx, s.DB, fileID, index)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil, ErrNoSuchPart
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
	var remaining []int
	err = s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// Lock the session row: concurrent completions of the last two parts
		// must see each other, so exactly one of them sees none remaining.
		if _, err := tx.NewUpdate().Model((*models.Upload)(nil)).Set("parts = parts").Where("id = ?", up.ID).Exec(ctx); err != nil {
			return err
		}
		if err := models.CompletePart(ctx, tx, fileID, index, want, models.Micros(s.now())); err != nil {
			return err
		}
		remaining, err = models.RemainingParts(ctx, tx, fileID)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("complete part: %w", err)
	}
	if len(remaining) > 0 {
		return remaining, nil, nil
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
		return nil, err
	}
	if err := models.DeleteParts(context.WithoutCancel(ctx), s.DB, fileID); err != nil {
		s.Log.Warn("assemble: drop part rows", "id", fileID, "err", err)
	}
	return f, nil
}
