package models

import (
	"encoding/base64"
	"fmt"

	"github.com/uptrace/bun"
)

// UploadDigest is the running SHA-256 of an unfinished upload on a store
// that instances share: the hash's state after its first Hashed bytes.
type UploadDigest struct {
	bun.BaseModel `bun:"table:upload_digests"`

	ID     string `bun:"id,pk"`
	Hashed int64  `bun:"hashed,notnull"`
	// State is the hash's binary marshaling in base64: TEXT is the same
	// column on both databases.
	State string `bun:"state,notnull"`
}

// SaveUploadDigest records upload id's digest state after hashed bytes,
// replacing the one it had.
func SaveUploadDigest(c ctx, db bun.IDB, id string, hashed int64, state []byte) error {
	d := &UploadDigest{ID: id, Hashed: hashed, State: base64.StdEncoding.EncodeToString(state)}
	_, err := db.NewInsert().Model(d).
		On("CONFLICT (id) DO UPDATE").Set("hashed = EXCLUDED.hashed").Set("state = EXCLUDED.state").
		Exec(c)
	return err
}

// GetUploadDigest returns upload id's digest state and the bytes it covers
// (ErrNotFound when it has none).
func GetUploadDigest(c ctx, db bun.IDB, id string) (hashed int64, state []byte, err error) {
	d := new(UploadDigest)
	if err := db.NewSelect().Model(d).Where("id = ?", id).Scan(c); err != nil {
		return 0, nil, notFound(err)
	}
	state, err = base64.StdEncoding.DecodeString(d.State)
	if err != nil {
		return 0, nil, fmt.Errorf("digest of %s: %w", id, err)
	}
	return d.Hashed, state, nil
}

// DeleteUploadDigest forgets upload id's digest state (none is fine).
func DeleteUploadDigest(c ctx, db bun.IDB, id string) error {
	_, err := db.NewDelete().Model((*UploadDigest)(nil)).Where("id = ?", id).Exec(c)
	return err
}
