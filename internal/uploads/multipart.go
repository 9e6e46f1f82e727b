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
	"satchel/internal/storage"
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

// MultipartBytes is what multipart sessions need of the store beyond
// Bytes: the session's storage, where each part's bytes go directly (see
// storage.Store's sessions), and the upload locks, which guard a part's
// bytes (the same lock tusd takes for its tus upload) and a session's
// assembly.
type MultipartBytes interface {
	NewLock(id string) (handler.Lock, error)
	BeginSession(ctx context.Context, id string, size int64, contentType string) error
	PutSessionPart(ctx context.Context, id string, p storage.SessionPart, body io.Reader) (storage.SessionPart, error)
	CopySessionPart(ctx context.Context, id string, p storage.SessionPart, from string) (storage.SessionPart, error)
	CompleteSession(ctx context.Context, id string, size int64, parts []storage.SessionPart) (string, error)
	AbortSession(ctx context.Context, id string) error
}

// Errors of multipart sessions.
var (
	ErrSessionNotFound = apperr.New(apperr.NotFound, "multipart upload not found")
	ErrNoSuchPart      = apperr.New(apperr.BadUserInput, "no such part")
)

// PartURL is where a part's bytes go (its tus upload URL).
func (s *Service) PartURL(p *models.Part) string { return s.PublicURL + "/uploads/" + p.UploadID }

// BeginMultipart starts a multipart session for a file of in.Size bytes:
// the final upload's row, the session's storage (where the parts' bytes
// will go) and its first part. The other parts are created when their URL
// is first asked for (Part), so that a short request for a large session
// creates one part, not thousands.
func (s *Service) BeginMultipart(ctx context.Context, p *auth.Principal, in BeginInput) (fileID string, count int, first *models.Part, err error) {
	if in.Size < 0 {
		return "", 0, nil, apperr.New(apperr.BadUserInput, "fileSize must not be negative")
	}
	n := PartCount(in.Size)
	if n > MaxParts {
		return "", 0, nil, apperr.Newf(apperr.TooLarge, "at most %d parts of %d bytes", MaxParts, PartSize)
	}
	mb, ok := s.Bytes.(MultipartBytes)
	if !ok {
		return "", 0, nil, errors.New("multipart: the store has no sessions")
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
	if err := mb.BeginSession(ctx, final.ID, final.Size, final.Mime); err != nil {
		s.dropUpload(context.WithoutCancel(ctx), final.ID)
		return "", 0, nil, fmt.Errorf("begin multipart: %w", err)
	}
	final.Parts = n
	s.rows.put(final, time.Now())
	if first, err = s.ensurePart(ctx, final, 0); err != nil {
		return "", 0, nil, err
	}
	return final.ID, n, first, nil
}

// ensurePart returns part index of the session final, creating its rows
// (the part's and its upload's) if this is the first ask. Concurrent first
// asks create it once. Its bytes go to the session; it has a tus upload of
// its own only once its URL is used over tus (PartUpload).
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
	won := false
	err = s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if won, err = models.InsertPartOnce(ctx, tx, part); err != nil || !won {
			return err
		}
		return models.InsertUploads(ctx, tx, []*models.Upload{row})
	})
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

// PartETag answers the ETag of a partial upload whose last byte tusd has
// just written (its pre-finish hook, under the upload's lock): its quoted
// SHA-256. A part of a multipart session is first copied into the session.
func (s *Service) PartETag(ctx context.Context, uploadID string) (string, error) {
	part, err := models.GetPartByUpload(ctx, s.DB, uploadID)
	if errors.Is(err, models.ErrNotFound) {
		return s.uploadETag(ctx, uploadID) // a tus concatenation's part
	}
	if err != nil {
		return "", err
	}
	return s.storePart(ctx, part, func() (storage.SessionPart, error) { return s.tusPartBytes(ctx, part) })
}

// uploadETag is the quoted SHA-256 of a complete upload.
func (s *Service) uploadETag(ctx context.Context, uploadID string) (string, error) {
	info, err := s.completeInfo(ctx, uploadID)
	if err != nil {
		return "", err
	}
	sum, err := s.Bytes.Checksum(ctx, uploadID, info.Size)
	if err != nil {
		return "", err
	}
	return `"` + sum + `"`, nil
}

// completeInfo is the info of an upload whose bytes are all written.
func (s *Service) completeInfo(ctx context.Context, uploadID string) (handler.FileInfo, error) {
	bu, err := s.Bytes.GetUpload(ctx, uploadID)
	if err != nil {
		return handler.FileInfo{}, fmt.Errorf("part etag: %w", err)
	}
	info, err := bu.GetInfo(ctx)
	if err != nil {
		return handler.FileInfo{}, fmt.Errorf("part etag: %w", err)
	}
	if info.SizeIsDeferred || info.Offset != info.Size {
		return handler.FileInfo{}, apperr.Newf(apperr.BadUserInput, "the part has %d of its %d bytes", info.Offset, info.Size)
	}
	return info, nil
}

// tusPartBytes copies the bytes of a part's complete tus upload into its
// session (S3 copies; the filestore copies in the kernel). A session begun
// before sessions had storage of their own gets it first.
func (s *Service) tusPartBytes(ctx context.Context, part *models.Part) (storage.SessionPart, error) {
	if _, err := s.completeInfo(ctx, part.UploadID); err != nil {
		return storage.SessionPart{}, err
	}
	up, err := s.pending(ctx, part.FileID)
	if err != nil {
		return storage.SessionPart{}, err
	}
	mb := s.Bytes.(MultipartBytes)
	if err := mb.BeginSession(ctx, up.ID, up.Size, up.Mime); err != nil {
		return storage.SessionPart{}, err
	}
	return mb.CopySessionPart(ctx, part.FileID, sessionPart(part), part.UploadID)
}

// sessionPart is the storage's view of a part.
func sessionPart(part *models.Part) storage.SessionPart {
	return storage.SessionPart{Index: part.Index, Offset: part.RangeStart, Size: part.Size(), SHA256: part.SHA256, Tag: part.StoreTag}
}

var errPartCompleted = apperr.New(apperr.BadUserInput, "this part is already completed")

// storePart stores a part's bytes with write and records them on its row,
// returning its ETag. The caller holds the part's lock. Bytes stored
// before are first marked gone: until write has stored the new ones, the
// part has none (and cannot be completed).
func (s *Service) storePart(ctx context.Context, part *models.Part, write func() (storage.SessionPart, error)) (string, error) {
	if part.CompletedAt != nil {
		return "", errPartCompleted
	}
	if part.SHA256 != "" {
		open, err := models.SetPartBytes(ctx, s.DB, part.FileID, part.Index, "", "")
		if err != nil {
			return "", fmt.Errorf("store part: %w", err)
		}
		if !open {
			return "", errPartCompleted
		}
		part.SHA256, part.StoreTag = "", ""
	}
	sp, err := write()
	if err != nil {
		return "", err
	}
	open, err := models.SetPartBytes(context.WithoutCancel(ctx), s.DB, part.FileID, part.Index, sp.SHA256, sp.Tag)
	if err != nil {
		return "", fmt.Errorf("store part: %w", err)
	}
	if !open {
		return "", errPartCompleted
	}
	part.SHA256, part.StoreTag = sp.SHA256, sp.Tag
	return `"` + sp.SHA256 + `"`, nil
}

// lock takes the upload lock of id (a part's: tusd's for its tus upload; a
// session's), waiting at most wait; busy says why it could not.
func (s *Service) lock(ctx context.Context, id string, wait time.Duration, busy string) (unlock func(), err error) {
	lock, err := s.Bytes.(MultipartBytes).NewLock(id)
	if err != nil {
		return nil, err
	}
	lctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if err := lock.Lock(lctx, func() {}); err != nil {
		return nil, apperr.New(apperr.Locked, busy)
	}
	return func() { _ = lock.Unlock() }, nil
}

// PutPart stores a part's bytes from one request, straight into its
// session, replacing whatever an earlier attempt left, and returns its
// ETag. The part's URL is the capability, as for any tus upload.
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
		return "", errPartCompleted
	}
	size := part.Size()
	if length < 0 {
		return "", apperr.Newf(apperr.BadUserInput, "Content-Length is required: this part is %d bytes", size)
	}
	if length != size {
		return "", apperr.Newf(apperr.BadUserInput, "this part is %d bytes, not %d", size, length)
	}
	unlock, err := s.lock(ctx, uploadID, 20*time.Second, "another request is writing this part")
	if err != nil {
		return "", err
	}
	defer unlock()
	// The part as it is now that no one else writes it.
	if part, err = models.GetPart(ctx, s.DB, part.FileID, part.Index); err != nil {
		return "", err
	}
	if part.TusUpload && part.CompletedAt == nil {
		// Whatever an interrupted tus upload of the part left goes.
		if err := s.Bytes.Delete(ctx, uploadID); err != nil {
			return "", fmt.Errorf("put part: drop its tus upload: %w", err)
		}
		if err := models.SetPartTusUpload(ctx, s.DB, part.FileID, part.Index, false); err != nil {
			return "", fmt.Errorf("put part: %w", err)
		}
		part.TusUpload = false
	}
	return s.storePart(ctx, part, func() (storage.SessionPart, error) {
		sp, err := s.Bytes.(MultipartBytes).PutSessionPart(ctx, part.FileID, sessionPart(part), body)
		if errors.Is(err, storage.ErrShortPart) {
			return sp, apperr.Newf(apperr.BadUserInput, "the body ended before the part's %d bytes", size)
		}
		if err != nil {
			return sp, fmt.Errorf("put part: %w", err)
		}
		return sp, nil
	})
}

// PartUpload makes sure that a part of a multipart session has its tus
// upload, for the tus requests on its URL (HEAD, PATCH): a part is created
// without one, since a part sent with PUT needs none. Its bytes go to the
// session when the tus upload completes (PartETag).
func (s *Service) PartUpload(ctx context.Context, uploadID string) error {
	part, err := models.GetPartByUpload(ctx, s.DB, uploadID)
	if errors.Is(err, models.ErrNotFound) {
		return ErrUploadNotFound
	}
	if err != nil || part.TusUpload || part.CompletedAt != nil {
		return err
	}
	unlock, err := s.lock(ctx, uploadID, 20*time.Second, "another request is writing this part")
	if err != nil {
		return err
	}
	defer unlock()
	if part, err = models.GetPart(ctx, s.DB, part.FileID, part.Index); err != nil || part.TusUpload {
		return err
	}
	if _, err := s.Bytes.NewUpload(ctx, handler.FileInfo{ID: uploadID, Size: part.Size(), IsPartial: true, MetaData: handler.MetaData{}}); err != nil {
		return fmt.Errorf("create the part's tus upload: %w", err)
	}
	if err := models.SetPartTusUpload(ctx, s.DB, part.FileID, part.Index, true); err != nil {
		_ = s.Bytes.Delete(context.WithoutCancel(ctx), uploadID)
		return fmt.Errorf("create the part's tus upload: %w", err)
	}
	return nil
}
