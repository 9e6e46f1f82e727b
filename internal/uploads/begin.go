package uploads

import (
	"context"
	"fmt"
	"time"

	"satchel/internal/apperr"
	"satchel/internal/auth"
	"satchel/internal/ids"
	"satchel/models"
)

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
