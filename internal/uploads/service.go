// Package uploads holds Satchel's use cases around files: beginning an
// upload, finishing it (idempotently, in one transaction), one-shot uploads,
// reading, listing and deleting files, and repairing what a crash left half
// done. The HTTP edges (tus, REST, GraphQL) call into it; it never calls them.
package uploads

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/uptrace/bun"

	"satchel/internal/apperr"
	"satchel/internal/auth"
	"satchel/internal/ids"
	"satchel/internal/storage"
	"satchel/models"
)

// Bytes is what the use cases need of the byte store.
type Bytes interface {
	NewUpload(ctx context.Context, info handler.FileInfo) (handler.Upload, error)
	GetUpload(ctx context.Context, id string) (handler.Upload, error)
	Checksum(ctx context.Context, id string, size int64) (string, error)
	Open(ctx context.Context, id string) (storage.Object, error)
	Delete(ctx context.Context, id string) error
	Forget(ctx context.Context, id string) error
}

// Observer hears about finished uploads (metrics, events). It must not block.
type Observer interface {
	FileFinished(f *models.File, source string)
	// UploadSetAside counts an upload the reconciler could not repair.
	UploadSetAside()
}

// FinishHook adds work to the transaction that commits a file (durable job
// rows, say) and hears when it has committed.
type FinishHook interface {
	// InFinish runs inside the finishing transaction; an error aborts it.
	InFinish(ctx context.Context, tx bun.IDB, f *models.File) error
	// Finished runs after the commit. It must not block.
	Finished(f *models.File)
}

// Service is the upload and file use cases.
type Service struct {
	DB            *bun.DB
	Bytes         Bytes
	Log           *slog.Logger
	PublicURL     string
	MaxUploadSize int64
	UploadTTL     time.Duration
	// StorageQuota is each account's storage quota in bytes unless the
	// account has one of its own (0: none).
	StorageQuota int64
	// MaxPendingUploads caps each key's unfinished uploads; a key may set
	// a lower cap of its own (0: none).
	MaxPendingUploads int
	Observer          Observer
	// Hooks run in and after every finishing transaction.
	Hooks []FinishHook
	// Limiter enforces the keys' uploads-per-minute rules (nil: none).
	Limiter RateLimiter
	// BeforeCommit, when set, runs just before a finishing transaction
	// commits. Crash tests use it to stop the process at that point.
	BeforeCommit func(id string)
	Now          func() time.Time

	commits committer    // group commit of upload rows and files (commit.go)
	rows    pendingCache // recent upload rows (pending.go)
	quotas  quotaCache   // recent usage for the quotas (limits.go)
	aside   sync.Map     // upload ID -> time the reconciler set it aside (repair.go)
}

// Errors owned by this package.
var (
	ErrFileNotFound   = apperr.New(apperr.NotFound, "file not found")
	ErrUploadNotFound = apperr.New(apperr.NotFound, "upload not found")
	ErrIncomplete     = apperr.New(apperr.BadUserInput, "upload is not complete")
)

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// FileURL is the delivery URL of a file.
func (s *Service) FileURL(id string) string { return s.PublicURL + "/files/" + id }

// Meta is the client-supplied description of an upload, already validated.
type Meta struct {
	Name string
	Mime string
	Tags []models.Tag
}

// ParseMeta validates raw name, type and tags JSON.
func ParseMeta(name, mimeType, tagsJSON string) (Meta, error) {
	tags, err := ParseTags(tagsJSON)
	if err != nil {
		return Meta{}, err
	}
	return NewMeta(name, mimeType, tags)
}

// NewMeta validates a name, a type and tags ("" for absent).
func NewMeta(name, mimeType string, tags []models.Tag) (Meta, error) {
	var m Meta
	var err error
	if m.Name, err = ValidateFileName(name); err != nil {
		return m, err
	}
	if m.Mime, err = ValidateMime(mimeType); err != nil {
		return m, err
	}
	if m.Tags, err = NormalizeTags(tags); err != nil {
		return m, err
	}
	return m, nil
}

// BeginInput describes a new upload.
type BeginInput struct {
	Meta
	Size       int64 // -1 when deferred
	Partial    bool
	PartialIDs []string // for a concatenation
}

// Begin records an unfinished upload for p and returns it with a fresh ID.
// Every limit is checked here, in this order: size, the upload ID's rules,
// declared type, rate, the key's cap on unfinished uploads and the
// account's storage quota.
func (s *Service) Begin(ctx context.Context, p *auth.Principal, in BeginInput) (*models.Upload, error) {
	limit := s.limitFor(p)
	if err := tooLarge(limit, in.Size); err != nil {
		return nil, err
	}
	if p.Ticket != nil {
		if err := applyTicket(p.Ticket, &in); err != nil {
			return nil, err
		}
	}
	rules := rulesFor(p)
	if err := checkDeclared(rules, in.Mime); err != nil {
		return nil, err
	}
	if p.Key != nil && s.Limiter != nil {
		if wait := s.Limiter.Allow(p.Key.ID, p.Key.UploadsPerMinute); wait > 0 {
			return nil, &apperr.Error{Code: apperr.RateLimited, Message: "too many uploads with this key; slow down", RetryAfter: wait}
		}
	}
	if len(in.PartialIDs) > 0 {
		if err := s.checkPartials(ctx, p.AccountID, in.PartialIDs); err != nil {
			return nil, err
		}
	}
	// Uploads with an upload ID count against the key that minted it.
	keyID, key := "", p.Key
	switch {
	case p.Key != nil:
		keyID = p.Key.ID
	case p.Ticket != nil:
		keyID, key = p.Ticket.KeyID, p.Minter
	}
	if err := s.admitPending(ctx, keyID, s.pendingCap(key)); err != nil {
		return nil, err
	}
	left, err := s.storageLeft(ctx, p.AccountID, in.Size)
	if err != nil {
		return nil, err
	}
	now := s.now()
	mimeRules := rulePatterns(rules)
	if in.Partial {
		// A part of a concatenation starts anywhere in the file: the rules
		// apply to the file that the final upload assembles.
		mimeRules = nil
	}
	u := &models.Upload{
		ID: ids.New(), AccountID: p.AccountID, KeyID: keyID, Name: in.Name, Mime: in.Mime, Tags: in.Tags,
		Size: in.Size, Partial: in.Partial, MaxSize: limit, QuotaLeft: left, MimeRules: mimeRules,
		CreatedAt: models.Micros(now), ExpiresAt: models.Micros(now.Add(s.UploadTTL)),
	}
	if p.Ticket != nil {
		u.TicketID = p.Ticket.ID
	}
	if err := s.commit(&commitItem{insert: u}); err != nil {
		return nil, fmt.Errorf("insert upload: %w", err)
	}
	s.rows.put(u, time.Now())
	return u, nil
}

// checkPartials makes sure every part of a concatenation is one of the
// account's own partial uploads.
func (s *Service) checkPartials(ctx context.Context, accountID string, partIDs []string) error {
	// Another account's part looks exactly like a missing one.
	errUnknown := apperr.New(apperr.NotFound, "Upload-Concat names an unknown upload")
	for _, id := range partIDs {
		if !ids.Valid(id) {
			return errUnknown
		}
	}
	ups, err := models.GetUploadsOfAccount(ctx, s.DB, accountID, partIDs)
	if err != nil {
		return fmt.Errorf("load partial uploads: %w", err)
	}
	mine := map[string]bool{}
	for _, u := range ups {
		// Parts of a multipart session are assembled by the session only.
		if u.Partial && u.SessionID == "" {
			mine[u.ID] = true
		}
	}
	for _, id := range partIDs {
		if !mine[id] {
			return errUnknown
		}
	}
	return nil
}

// Pending returns an unfinished upload.
func (s *Service) Pending(ctx context.Context, id string) (*models.Upload, error) {
	if !ids.Valid(id) {
		return nil, ErrUploadNotFound
	}
	u, err := models.GetUpload(ctx, s.DB, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrUploadNotFound
	}
	return u, err
}

var errAlreadyFinished = errors.New("already finished")

// Finish turns a complete upload into a File: one transaction removes the
// unfinished row and inserts the file with its digest. It is idempotent:
// finishing a finished upload returns its File. A partial upload (a part of
// a concatenation) has no File: Finish returns nil, nil for it.
func (s *Service) Finish(ctx context.Context, id string) (*models.File, error) {
	return s.finish(ctx, id, "tus", nil)
}

// FinishWritten is Finish for the caller that holds the upload's lock and
// has just written its last bytes: info is the store's description of the
// upload as of that write, which spares reading it again.
func (s *Service) FinishWritten(ctx context.Context, info handler.FileInfo) (*models.File, error) {
	return s.finish(ctx, info.ID, "tus", &info)
}

// finish commits upload id; info, when the caller has it, describes its
// bytes (else the store is asked).
func (s *Service) finish(ctx context.Context, id, source string, info *handler.FileInfo) (*models.File, error) {
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
	sum, err := s.Bytes.Checksum(ctx, id, info.Size)
	if err != nil {
		return nil, fmt.Errorf("finish %s: %w", id, err)
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

// dropUpload deletes an unfinished upload's row and bytes, logging failures.
func (s *Service) dropUpload(ctx context.Context, id string) {
	if err := s.drop(ctx, &models.Upload{ID: id}); err != nil {
		s.Log.Warn("drop upload", "id", id, "err", err)
	}
}

// drop deletes an unfinished upload: its row, then its bytes and, for a
// multipart session, its part rows. A failed row delete is returned with
// nothing else touched; later failures are logged (the bytes of an upload
// without a row are unreachable).
func (s *Service) drop(ctx context.Context, u *models.Upload) error {
	if err := models.DeleteUpload(ctx, s.DB, u.ID); err != nil {
		return err
	}
	s.rows.forget(u.ID)
	if err := s.Bytes.Delete(ctx, u.ID); err != nil {
		s.Log.Warn("drop upload bytes", "id", u.ID, "err", err)
	}
	if u.Parts > 0 {
		if err := models.DeleteParts(ctx, s.DB, u.ID); err != nil {
			s.Log.Warn("drop upload parts", "id", u.ID, "err", err)
		}
	}
	return nil
}

// Abort forgets an upload that was terminated by its client.
func (s *Service) Abort(ctx context.Context, id string) { s.dropUpload(ctx, id) }

// Get returns the account's file.
func (s *Service) Get(ctx context.Context, accountID, id string) (*models.File, error) {
	if !ids.Valid(id) {
		return nil, ErrFileNotFound
	}
	f, err := models.GetFile(ctx, s.DB, accountID, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrFileNotFound
	}
	return f, err
}

// GetMany returns the account's files among ids, in the order of ids (nil
// where missing).
func (s *Service) GetMany(ctx context.Context, accountID string, fileIDs []string) ([]*models.File, error) {
	fs, err := models.GetFiles(ctx, s.DB, accountID, fileIDs)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*models.File, len(fs))
	for i := range fs {
		byID[fs[i].ID] = &fs[i]
	}
	out := make([]*models.File, len(fileIDs))
	for i, id := range fileIDs {
		out[i] = byID[id]
	}
	return out, nil
}

// ForDelivery returns a file by its ID alone: the 128-bit ID is the capability.
func (s *Service) ForDelivery(ctx context.Context, id string) (*models.File, storage.Object, error) {
	if !ids.Valid(id) {
		return nil, nil, ErrFileNotFound
	}
	f, err := models.GetFileAny(ctx, s.DB, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil, ErrFileNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	obj, err := s.Bytes.Open(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, ErrFileNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	return f, obj, nil
}

// MaxDeleteBatch bounds deleteFiles.
const MaxDeleteBatch = 1000

// Delete deletes the account's files among fileIDs: rows first, then bytes.
// IDs that are not the account's files come back in notFound.
func (s *Service) Delete(ctx context.Context, accountID string, fileIDs []string) (deleted, notFound []string, err error) {
	if len(fileIDs) > MaxDeleteBatch {
		return nil, nil, apperr.Newf(apperr.BadUserInput, "at most %d ids at once", MaxDeleteBatch)
	}
	valid := make([]string, 0, len(fileIDs))
	seen := map[string]bool{}
	for _, id := range fileIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		if ids.Valid(id) {
			valid = append(valid, id)
		}
	}
	err = s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		deleted, err = models.DeleteFiles(ctx, tx, accountID, valid)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("delete files: %w", err)
	}
	s.forgetUse(accountID)
	gone := map[string]bool{}
	for _, id := range deleted {
		gone[id] = true
		if err := s.Bytes.Delete(ctx, id); err != nil {
			s.Log.Error("delete file bytes", "id", id, "err", err)
		}
	}
	deleted = deleted[:0]
	seen = map[string]bool{}
	for _, id := range fileIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		if gone[id] {
			deleted = append(deleted, id)
		} else {
			notFound = append(notFound, id)
		}
	}
	return deleted, notFound, nil
}
