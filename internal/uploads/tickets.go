package uploads

import (
	"context"
	"errors"
	"fmt"
	"time"

	"satchel/internal/apperr"
	"satchel/internal/auth"
	"satchel/internal/ids"
	"satchel/internal/mimes"
	"satchel/models"
)

// Ticket lifetimes.
const (
	DefaultTicketTTL = time.Hour
	MaxTicketTTL     = time.Hour
	// TicketRetention keeps spent and expired tickets as tombstones, so a
	// late upload hears UPLOAD_ID_USED or UPLOAD_ID_EXPIRED, not UNKNOWN.
	TicketRetention = 7 * 24 * time.Hour
)

// Errors of the upload-ID rules.
var (
	ErrTicketUnknown = apperr.New(apperr.UploadIDUnknown, "unknown upload ID")
	ErrTicketExpired = apperr.New(apperr.UploadIDExpired, "the upload ID has expired; ask your backend for a new one")
	ErrTicketUsed    = apperr.New(apperr.UploadIDUsed, "the upload ID has already been used")
	// ErrTicketRevoked: revoking a key makes the upload IDs it minted and
	// nobody spent unusable, like expired ones.
	ErrTicketRevoked = apperr.New(apperr.UploadIDExpired, "the upload ID was revoked with the key that created it; ask your backend for a new one")
)

// TicketInput constrains what may be uploaded with a ticket. Zero values
// mean no constraint.
type TicketInput struct {
	FileName         string
	AllowedMimeTypes []string
	MaxFileSize      int64
	Tags             []models.Tag
	ExpiresIn        time.Duration
}

// CreateTicket mints an upload ID for p's account. Only secret keys may.
func (s *Service) CreateTicket(ctx context.Context, p *auth.Principal, in TicketInput) (*models.Ticket, error) {
	if !p.Secret() {
		return nil, auth.ErrSecretRequired
	}
	name, err := ValidateFileName(in.FileName)
	if err != nil {
		return nil, err
	}
	for _, m := range in.AllowedMimeTypes {
		if !mimes.ValidPattern(m) {
			return nil, apperr.Newf(apperr.BadUserInput, "allowedMimeTypes: %q is not a media type or pattern like image/*", truncate(m, 64))
		}
	}
	if in.MaxFileSize < 0 {
		return nil, apperr.New(apperr.BadUserInput, "maxFileSize must not be negative")
	}
	tags, err := NormalizeTags(in.Tags)
	if err != nil {
		return nil, err
	}
	ttl := in.ExpiresIn
	switch {
	case ttl == 0:
		ttl = DefaultTicketTTL
	case ttl < time.Second || ttl > MaxTicketTTL:
		return nil, apperr.Newf(apperr.BadUserInput, "expiresInSeconds must be between 1 and %d", int(MaxTicketTTL/time.Second))
	}
	now := s.now()
	t := &models.Ticket{
		ID: ids.New(), AccountID: p.AccountID, KeyID: p.Key.ID, FileName: name,
		MimeTypes: in.AllowedMimeTypes, MaxFileSize: in.MaxFileSize, Tags: tags,
		CreatedAt: models.Micros(now), ExpiresAt: models.Micros(now.Add(ttl)),
	}
	if err := models.InsertTicket(ctx, s.DB, t); err != nil {
		return nil, fmt.Errorf("insert ticket: %w", err)
	}
	return t, nil
}

// TicketPrincipal turns an upload ID into the principal that may start an
// upload with it: unknown, expired and spent IDs get their own errors.
// Expiry is checked here, when an upload is created; an upload created in
// time may finish later.
func (s *Service) TicketPrincipal(ctx context.Context, uploadID string) (*auth.Principal, error) {
	t, err := s.ticket(ctx, uploadID)
	if err != nil {
		return nil, err
	}
	if t.ConsumedAt != nil {
		return nil, ErrTicketUsed
	}
	if models.Micros(s.now()) >= t.ExpiresAt {
		return nil, ErrTicketExpired
	}
	minter, err := s.minter(ctx, t)
	if err != nil {
		return nil, err
	}
	return &auth.Principal{AccountID: t.AccountID, Ticket: t, Minter: minter}, nil
}

// minter returns the live key that minted t, or ErrTicketRevoked.
func (s *Service) minter(ctx context.Context, t *models.Ticket) (*models.APIKey, error) {
	k, err := models.GetAPIKey(ctx, s.DB, t.KeyID)
	if errors.Is(err, models.ErrNotFound) || (err == nil && (k.RevokedAt != nil || k.AccountID != t.AccountID)) {
		return nil, ErrTicketRevoked
	}
	if err != nil {
		return nil, fmt.Errorf("load the key of an upload ID: %w", err)
	}
	return k, nil
}

func (s *Service) ticket(ctx context.Context, id string) (*models.Ticket, error) {
	if !ids.Valid(id) {
		return nil, ErrTicketUnknown
	}
	t, err := models.GetTicket(ctx, s.DB, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrTicketUnknown
	}
	if err != nil {
		return nil, fmt.Errorf("load ticket: %w", err)
	}
	return t, nil
}

// applyTicket narrows an upload to what its ticket allows: the ticket's file
// name wins and its tags come first. Its type patterns and size bound are
// rules like a key's (rulesFor, limitFor).
func applyTicket(t *models.Ticket, in *BeginInput) error {
	if t.FileName != "" {
		in.Name = t.FileName
	}
	if len(t.Tags) > 0 {
		tags, err := NormalizeTags(append(append([]models.Tag{}, t.Tags...), in.Tags...))
		if err != nil {
			return err
		}
		in.Tags = tags
	}
	if in.Partial || len(in.PartialIDs) > 0 {
		return apperr.New(apperr.BadUserInput, "concatenation is not available with an upload ID")
	}
	return nil
}

// Resumable returns an unfinished upload that may still receive bytes: one
// whose upload ID was spent by another upload, or revoked, can no longer
// finish.
func (s *Service) Resumable(ctx context.Context, id string) (*models.Upload, error) {
	up, err := s.pending(ctx, id)
	if err != nil || up.TicketID == "" {
		return up, err
	}
	t, err := models.GetTicket(ctx, s.DB, up.TicketID)
	if err != nil {
		return up, nil
	}
	if t.ConsumedAt != nil {
		return up, ErrTicketUsed
	}
	if _, err := s.minter(ctx, t); errors.Is(err, ErrTicketRevoked) {
		return up, err
	}
	return up, nil
}
