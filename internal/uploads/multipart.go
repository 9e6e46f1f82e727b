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

// BeginMultipart starts a multipart session for a file of in.Size bytes:
// the final upload's row, and its first part. The other parts are created
// when their URL is first asked for (Part), so that a short request for a
// large session creates one part, not thousands.
func (s *Service) BeginMultipart(ctx context.Context, p *auth.Principal, in BeginInput) (fileID string, count int, first *models.Part, err error) {
	if in.Size < 0 {
		return "", 0, nil, apperr.New(apperr.BadUserInput, "fileSize must not be negative")
	}
	n := PartCount(in.Size)
	if n > MaxParts {
		return "", 0, nil, apperr.Newf(apperr.TooLarge, "at most %d parts of %d bytes", MaxParts, PartSize)
	}
	if _, ok := s.Bytes.(MultipartBytes); !ok {
		return "", 0, nil, errors.New("multipart: the store cannot concatenate")
	}
	in.Partial, in.PartialIDs = false, nil
	final, err := s.Begin(ctx, p, in)
	if err != nil {
		return "", 0, nil, err
	}
	if err := models.SetSessionParts(ctx, s.DB, final.ID, n); err != nil {
		s.rows.forget(final.ID)
		return "", 0, nil, fmt.Errorf("begin multipart: %w", err)
	}
	final.Parts = n
	s.rows.put(final, time.Now())
	if first, err = s.ensurePart(ctx, final, 0); err != nil {
		return "", 0, nil, err
	}
	return final.ID, n, first, nil
}

// ensurePart returns part index of the session final, creating it (its
// bytes' upload, its upload row and its part row) if this is the first ask.
// Concurrent first asks create it once.
func (s *Service) ensurePart(ctx context.Context, final *models.Upload, index int) (*models.Part, error) {
	if index < 0 || index >= final.Parts {
		return nil, ErrNoSuchPart
	}
	part, err := models.GetPart(ctx, s.DB, final.ID, index)
	if !errors.Is(err, models.ErrNotFound) {
		return part, err
	}
	start, end := PartRange(final.Size, index)
	part = &models.Part{FileID: final.ID, Index: index, UploadID: ids.New(), RangeStart: start, RangeEnd: end}
	row := &models.Upload{
		ID: part.UploadID, AccountID: final.AccountID, KeyID: final.KeyID, Tags: []models.Tag{},
		Size: part.Size(), MaxSize: part.Size(), Partial: true, SessionID: final.ID,
		CreatedAt: final.CreatedAt, ExpiresAt: final.ExpiresAt,
	}
	// The bytes' upload first: a part row always has one.
	if _, err := s.Bytes.NewUpload(ctx, handler.FileInfo{ID: part.UploadID, Size: part.Size(), IsPartial: true, MetaData: handler.MetaData{}}); err != nil {
		return nil, fmt.Errorf("create part: %w", err)
	}
	won := false
	err = s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if won, err = models.InsertPartOnce(ctx, tx, part); err != nil || !won {
			return err
		}
		return models.InsertUploads(ctx, tx, []*models.Upload{row})
	})
	if err != nil || !won {
		if derr := s.Bytes.Delete(context.WithoutCancel(ctx), part.UploadID); derr != nil {
			s.Log.WarnContext(ctx, "drop an unused part", "id", part.UploadID, "err", derr)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("create part: %w", err)
	}
	if !won {
		return models.GetPart(ctx, s.DB, final.ID, index)
	}
	return part, nil
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
	up, done, err := s.session(ctx, p, fileID)
	if err != nil {
		return nil, err
	}
	if done != nil {
		return nil, apperr.New(apperr.NotFound, "the multipart upload is complete")
	}
	return s.ensurePart(ctx, up, index)
}

// RemainingParts lists the parts of p's session not yet completed.
func (s *Service) RemainingParts(ctx context.Context, p *auth.Principal, fileID string) ([]int, error) {
	up, done, err := s.session(ctx, p, fileID)
	if err != nil || done != nil {
		return []int{}, err
	}
	return remaining(ctx, s.DB, up)
}

// remaining lists the indexes of a session's parts not completed, created
// or not.
func remaining(ctx context.Context, db bun.IDB, up *models.Upload) ([]int, error) {
	done, err := models.CompletedParts(ctx, db, up.ID)
	if err != nil {
		return nil, err
	}
	completed := make(map[int]bool, len(done))
	for _, i := range done {
		completed[i] = true
	}
	left := make([]int, 0, up.Parts-len(done))
	for i := range up.Parts {
		if !completed[i] {
			left = append(left, i)
		}
	}
	return left, nil
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
