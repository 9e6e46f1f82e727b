package models

import (
	"database/sql"
	"errors"

	"github.com/uptrace/bun"
)

// Upload is an upload that has begun but not finished. Finishing moves it to
// files in one transaction.
type Upload struct {
	bun.BaseModel `bun:"table:uploads"`

	ID        string `bun:"id,pk"`
	AccountID string `bun:"account_id,notnull"`
	KeyID     string `bun:"key_id,notnull"`
	TicketID  string `bun:"ticket_id,notnull"`
	Name      string `bun:"name,notnull"`
	Mime      string `bun:"mime,notnull"`
	Tags      []Tag  `bun:"tags,type:text,notnull"`
	Size      int64  `bun:"size,notnull"` // -1 while the length is deferred
	Partial   bool   `bun:"partial,notnull"`
	// Parts > 0 marks the final upload of a multipart session.
	Parts int `bun:"parts,notnull"`
	// SessionID is the final file's ID for a part of a multipart session.
	SessionID string `bun:"session_id,notnull"`
	CreatedAt int64  `bun:"created_at,notnull"`
	ExpiresAt int64  `bun:"expires_at,notnull"`
	// MaxSize is the largest size the upload may reach (0: none): the
	// smallest of the server's, the key's and the upload ID's limits.
	MaxSize int64 `bun:"max_size,notnull"`
	// QuotaLeft is what its account's storage quota had left when it
	// began (0: no quota; an upload never begins with none left). The quota
	// itself is enforced when the file commits.
	QuotaLeft int64 `bun:"quota_left,notnull"`
	// MimeRules are the type patterns its bytes must meet, one list per
	// rule (the key's, the upload ID's); every list must allow the type.
	MimeRules [][]string `bun:"mime_rules,type:text,notnull"`
	// BackendID is the byte store's own name for the upload when it has
	// one (S3: "<id>+<multipart upload ID>"); empty until the store created
	// it. Only the store reads and writes it (UploadBackendID).
	BackendID string `bun:"backend_id,notnull"`
}

// InsertUploads inserts ups in one statement.
func InsertUploads(c ctx, db bun.IDB, ups []*Upload) error {
	if len(ups) == 0 {
		return nil
	}
	for _, u := range ups {
		if u.Tags == nil {
			u.Tags = []Tag{}
		}
		if u.MimeRules == nil {
			u.MimeRules = [][]string{}
		}
	}
	_, err := db.NewInsert().Model(&ups).Exec(c)
	return err
}

// GetUpload loads one unfinished upload.
func GetUpload(c ctx, db bun.IDB, id string) (*Upload, error) {
	u := new(Upload)
	err := db.NewSelect().Model(u).Where("id = ?", id).Scan(c)
	return u, notFound(err)
}

// GetUploadsOfAccount loads the account's unfinished uploads among ids.
func GetUploadsOfAccount(c ctx, db bun.IDB, accountID string, ids []string) ([]Upload, error) {
	var us []Upload
	if len(ids) == 0 {
		return us, nil
	}
	err := db.NewSelect().Model(&us).Where("account_id = ?", accountID).Where("id IN (?)", bun.In(ids)).Scan(c)
	return us, err
}

// DeleteUpload removes an unfinished upload's row.
func DeleteUpload(c ctx, db bun.IDB, id string) error {
	_, err := db.NewDelete().Model((*Upload)(nil)).Where("id = ?", id).Exec(c)
	return err
}

// DeletePartUploads removes the upload rows of a multipart session's
// parts (those its part rows name), in one statement.
func DeletePartUploads(c ctx, db bun.IDB, sessionID string) error {
	parts := db.NewSelect().Model((*Part)(nil)).Column("upload_id").Where("file_id = ?", sessionID)
	_, err := db.NewDelete().Model((*Upload)(nil)).Where("id IN (?)", parts).Exec(c)
	return err
}

// DeleteUploadsReturning deletes the rows of the unfinished uploads among
// ids in one statement and returns the IDs whose row it deleted: the caller
// that gets an ID back is the one that finishes that upload (a row already
// gone was finished or dropped by someone else).
func DeleteUploadsReturning(c ctx, db bun.IDB, ids []string) ([]string, error) {
	var deleted []string
	if len(ids) == 0 {
		return deleted, nil
	}
	err := db.NewDelete().Model((*Upload)(nil)).Where("id IN (?)", bun.In(ids)).Returning("id").Scan(c, &deleted)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	return deleted, err
}

// UploadBackendID returns the store's name for unfinished upload id (empty for
// none yet), or ErrNotFound when id has no row.
func UploadBackendID(c ctx, db bun.IDB, id string) (string, error) {
	var backendID string
	err := db.NewSelect().Model((*Upload)(nil)).Column("backend_id").Where("id = ?", id).Scan(c, &backendID)
	return backendID, notFound(err)
}

// SetUploadBackendID records the store's name for unfinished upload id (no
// row: nothing to record, and no error).
func SetUploadBackendID(c ctx, db bun.IDB, id, backendID string) error {
	_, err := db.NewUpdate().Model((*Upload)(nil)).Set("backend_id = ?", backendID).Where("id = ?", id).Exec(c)
	return err
}

// SetSessionParts makes upload id the final upload of a multipart session of
// n parts.
func SetSessionParts(c ctx, db bun.IDB, id string, n int) error {
	_, err := db.NewUpdate().Model((*Upload)(nil)).Set("parts = ?", n).Where("id = ?", id).Exec(c)
	return err
}

// LockSession takes the row lock of a multipart session's upload row, with
// an update that changes nothing, until db (a transaction) ends: the
// transactions that complete the session's parts then run one at a time.
func LockSession(c ctx, db bun.IDB, id string) error {
	_, err := db.NewUpdate().Model((*Upload)(nil)).Set("parts = parts").Where("id = ?", id).Exec(c)
	return err
}

// ListUploadsAfter pages through all unfinished uploads by ID (for the reconciler).
func ListUploadsAfter(c ctx, db bun.IDB, afterID string, limit int64) ([]Upload, error) {
	var us []Upload
	err := db.NewSelect().Model(&us).Where("id > ?", afterID).Order("id ASC").Limit(limit).Scan(c)
	return us, err
}

// ListExpiredUploads returns up to limit uploads whose expiry is before nowUs.
func ListExpiredUploads(c ctx, db bun.IDB, nowUs int64, limit int64) ([]Upload, error) {
	var us []Upload
	err := db.NewSelect().Model(&us).Where("expires_at < ?", nowUs).Order("expires_at ASC").Limit(limit).Scan(c)
	return us, err
}

// CountPendingUploadsOfKey counts the unfinished uploads begun with a key
// (or with upload IDs it minted), multipart parts aside.
func CountPendingUploadsOfKey(c ctx, db bun.IDB, keyID string) (int64, error) {
	return db.NewSelect().Model((*Upload)(nil)).Where("key_id = ?", keyID).Where("session_id = ''").Count(c)
}
