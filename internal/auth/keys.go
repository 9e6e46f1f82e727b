// Package auth turns credentials into a Principal: API keys (Bearer or Basic
// apikey:<key>), hashed at rest and compared in constant time. It also
// creates accounts and keys, and bootstraps the first account.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"satchel/internal/apperr"
	"satchel/internal/ids"
	"satchel/internal/mimes"
	"satchel/models"
)

// keyRandomLen base62 characters carry 190 random bits.
const keyRandomLen = 32

// GenerateKey returns a new key of kind, its hash and a display hint.
func GenerateKey(kind string) (plain, hash, hint string) {
	r := ids.Random(keyRandomLen)
	plain = kind + "_" + r
	return plain, HashKey(plain), kind + "_" + r[:4] + "…"
}

// HashKey is the stored form of a key. Keys carry 190 random bits, so a plain
// SHA-256 is as strong as a slow hash here and keeps lookups cheap.
func HashKey(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// kindOf returns the kind a key's prefix claims, or "" when it is malformed.
func kindOf(plain string) string {
	kind, rest, ok := strings.Cut(plain, "_")
	if !ok || len(rest) != keyRandomLen || (kind != models.KindPublic && kind != models.KindSecret) {
		return ""
	}
	return kind
}

// hashesEqual compares two hex hashes in constant time.
func hashesEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// KeyOptions are the optional rules of a new key.
type KeyOptions struct {
	Name             string
	Origins          []string
	MaxFileSize      int64
	MimeTypes        []string
	UploadsPerMinute int
	// MaxPendingUploads lowers the server's cap on the key's unfinished
	// uploads (nil: the server's cap).
	MaxPendingUploads *int
}

// CreateKey creates a key of kind for the account and returns the plain key,
// which is shown once and never stored.
func (s *Service) CreateKey(ctx context.Context, accountID, kind string, opt KeyOptions) (string, *models.APIKey, error) {
	if kind != models.KindPublic && kind != models.KindSecret {
		return "", nil, apperr.New(apperr.BadUserInput, "kind must be public or secret")
	}
	if len(opt.Name) > 200 {
		return "", nil, apperr.New(apperr.BadUserInput, "key name must be at most 200 characters")
	}
	if opt.MaxFileSize < 0 || opt.UploadsPerMinute < 0 || (opt.MaxPendingUploads != nil && *opt.MaxPendingUploads < 1) {
		return "", nil, apperr.New(apperr.BadUserInput, "maxFileSize and uploadsPerMinute must not be negative, maxPendingUploads must be positive")
	}
	if len(opt.Origins) > 50 || len(opt.MimeTypes) > 50 {
		return "", nil, apperr.New(apperr.BadUserInput, "at most 50 origins and 50 MIME types per key")
	}
	for _, m := range opt.MimeTypes {
		if !mimes.ValidPattern(m) {
			return "", nil, apperr.Newf(apperr.BadUserInput, "MIME type %q is not a type or pattern like image/*", m)
		}
	}
	for _, o := range opt.Origins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
			return "", nil, apperr.Newf(apperr.BadUserInput, "origin %q must look like https://example.com", o)
		}
	}
	if _, err := models.GetAccount(ctx, s.DB, accountID); err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return "", nil, apperr.New(apperr.NotFound, "account not found")
		}
		return "", nil, err
	}
	plain, hash, hint := GenerateKey(kind)
	k := &models.APIKey{
		ID: ids.New(), AccountID: accountID, Kind: kind, Hash: hash, Hint: hint, Name: opt.Name,
		Origins: opt.Origins, MaxFileSize: opt.MaxFileSize, MimeTypes: opt.MimeTypes,
		UploadsPerMinute: opt.UploadsPerMinute, MaxPendingUploads: opt.MaxPendingUploads, CreatedAt: models.Micros(time.Now()),
	}
	if err := models.InsertAPIKey(ctx, s.DB, k); err != nil {
		return "", nil, fmt.Errorf("insert key: %w", err)
	}
	return plain, k, nil
}

// ListKeys returns the account's keys (their hashes never leave here).
func (s *Service) ListKeys(ctx context.Context, accountID string) ([]models.APIKey, error) {
	return models.ListAPIKeys(ctx, s.DB, accountID)
}

// RevokeKey revokes one of the account's keys; another account's key is
// NOT_FOUND.
func (s *Service) RevokeKey(ctx context.Context, accountID, id string) (*models.APIKey, error) {
	if !ids.Valid(id) {
		return nil, apperr.New(apperr.NotFound, "key not found")
	}
	k, err := models.RevokeAPIKey(ctx, s.DB, accountID, id, models.Micros(time.Now()))
	s.cache.forget(id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, apperr.New(apperr.NotFound, "key not found")
	}
	return k, err
}
