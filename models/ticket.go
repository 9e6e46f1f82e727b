package models

import (
	"github.com/uptrace/bun"
)

// Ticket is an upload ID: a single-use permission to upload one file into
// an account, with optional constraints.
type Ticket struct {
	bun.BaseModel `bun:"table:upload_tickets"`

	ID          string   `bun:"id,pk"`
	AccountID   string   `bun:"account_id,notnull"`
	KeyID       string   `bun:"key_id,notnull"`
	FileName    string   `bun:"file_name,notnull"`
	MimeTypes   []string `bun:"mime_types,type:text,notnull"`
	MaxFileSize int64    `bun:"max_file_size,notnull"`
	Tags        []Tag    `bun:"tags,type:text,notnull"`
	CreatedAt   int64    `bun:"created_at,notnull"`
	ExpiresAt   int64    `bun:"expires_at,notnull"`
	ConsumedAt  *int64   `bun:"consumed_at"`
	FileID      *string  `bun:"file_id"`
}

// InsertTicket inserts t.
func InsertTicket(c ctx, db bun.IDB, t *Ticket) error {
	if t.MimeTypes == nil {
		t.MimeTypes = []string{}
	}
	if t.Tags == nil {
		t.Tags = []Tag{}
	}
	_, err := db.NewInsert().Model(t).Exec(c)
	return err
}

// GetTicket loads a ticket by its ID (the ID is the capability).
func GetTicket(c ctx, db bun.IDB, id string) (*Ticket, error) {
	t := new(Ticket)
	err := db.NewSelect().Model(t).Where("id = ?", id).Scan(c)
	return t, notFound(err)
}

// ConsumeTicket marks the ticket used by fileID. It reports false when the
// ticket was already consumed, does not exist, or was minted by a key that
// has since been revoked: exactly one caller wins.
func ConsumeTicket(c ctx, db bun.IDB, id, fileID string, atUs int64) (bool, error) {
	res, err := db.NewUpdate().Model((*Ticket)(nil)).
		Set("consumed_at = ?", atUs).Set("file_id = ?", fileID).
		Where("id = ?", id).Where("consumed_at IS NULL").
		Where("NOT EXISTS (SELECT 1 FROM api_keys AS k WHERE k.id = ?TableAlias.key_id AND k.revoked_at IS NOT NULL)").Exec(c)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DeleteTicketsBefore deletes tickets that expired, or were consumed, before
// cutoffUs, and returns how many went.
func DeleteTicketsBefore(c ctx, db bun.IDB, cutoffUs int64) (int64, error) {
	res, err := db.NewDelete().Model((*Ticket)(nil)).
		WhereOr("expires_at < ?", cutoffUs).WhereOr("consumed_at < ?", cutoffUs).Exec(c)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ListUploadsOfSpentTickets returns up to limit unfinished uploads whose
// ticket another upload has spent: they can never finish.
func ListUploadsOfSpentTickets(c ctx, db bun.IDB, limit int64) ([]Upload, error) {
	var us []Upload
	err := db.NewSelect().Model(&us).
		Where("ticket_id <> ''").
		Where("ticket_id IN (SELECT id FROM upload_tickets WHERE consumed_at IS NOT NULL)").
		Order("id ASC").Limit(limit).Scan(c)
	return us, err
}
