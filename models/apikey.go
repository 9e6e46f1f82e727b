package models

import (
	"github.com/uptrace/bun"
)

// Key kinds.
const (
	KindPublic = "public"
	KindSecret = "secret"
)

// APIKey is a key's stored form: its hash, never the key.
type APIKey struct {
	bun.BaseModel `bun:"table:api_keys"`

	ID               string   `bun:"id,pk"`
	AccountID        string   `bun:"account_id,notnull"`
	Kind             string   `bun:"kind,notnull"`
	Hash             string   `bun:"hash,notnull"`
	Hint             string   `bun:"hint,notnull"`
	Name             string   `bun:"name,notnull"`
	Origins          []string `bun:"origins,type:text,notnull"`
	MaxFileSize      int64    `bun:"max_file_size,notnull"`
	MimeTypes        []string `bun:"mime_types,type:text,notnull"`
	UploadsPerMinute int      `bun:"uploads_per_minute,notnull"`
	// MaxPendingUploads caps the key's unfinished uploads (nil: the
	// server's default).
	MaxPendingUploads *int   `bun:"max_pending_uploads"`
	CreatedAt         int64  `bun:"created_at,notnull"`
	RevokedAt         *int64 `bun:"revoked_at"`
}

// InsertAPIKey inserts k.
func InsertAPIKey(c ctx, db bun.IDB, k *APIKey) error {
	if k.Origins == nil {
		k.Origins = []string{}
	}
	if k.MimeTypes == nil {
		k.MimeTypes = []string{}
	}
	_, err := db.NewInsert().Model(k).Exec(c)
	return err
}

// GetAPIKeyByHash finds a live (unrevoked) key by the hash of its secret.
func GetAPIKeyByHash(c ctx, db bun.IDB, hash string) (*APIKey, error) {
	k := new(APIKey)
	err := db.NewSelect().Model(k).Where("hash = ?", hash).Where("revoked_at IS NULL").Scan(c)
	return k, notFound(err)
}

// ListAPIKeys returns the account's keys, revoked ones included, oldest first.
func ListAPIKeys(c ctx, db bun.IDB, accountID string) ([]APIKey, error) {
	var ks []APIKey
	err := db.NewSelect().Model(&ks).Where("account_id = ?", accountID).Order("created_at ASC", "id ASC").Scan(c)
	return ks, err
}

// RevokeAPIKey marks the account's key revoked (idempotently) and returns it.
func RevokeAPIKey(c ctx, db bun.IDB, accountID, id string, atUs int64) (*APIKey, error) {
	if _, err := db.NewUpdate().Model((*APIKey)(nil)).Set("revoked_at = ?", atUs).
		Where("id = ?", id).Where("account_id = ?", accountID).Where("revoked_at IS NULL").Exec(c); err != nil {
		return nil, err
	}
	k := new(APIKey)
	err := db.NewSelect().Model(k).Where("id = ?", id).Where("account_id = ?", accountID).Scan(c)
	return k, notFound(err)
}

// GetAPIKey loads a key by its ID, revoked or not (callers check the account).
func GetAPIKey(c ctx, db bun.IDB, id string) (*APIKey, error) {
	k := new(APIKey)
	err := db.NewSelect().Model(k).Where("id = ?", id).Scan(c)
	return k, notFound(err)
}
