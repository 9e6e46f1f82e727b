package models

import (
	"github.com/uptrace/bun"
)

// Tag is a label on a file. Only searchable tags are matched by filters.
type Tag struct {
	Name       string `json:"name"`
	Searchable bool   `json:"searchable"`
}

// File is a completed upload.
type File struct {
	bun.BaseModel `bun:"table:files"`

	ID         string `bun:"id,pk"`
	AccountID  string `bun:"account_id,notnull"`
	Name       string `bun:"name,notnull"`
	Mime       string `bun:"mime,notnull"`
	Size       int64  `bun:"size,notnull"`
	SHA256     string `bun:"sha256,notnull"`
	Tags       []Tag  `bun:"tags,type:text,notnull"`
	UploadedAt int64  `bun:"uploaded_at,notnull"`
}

// FileTag indexes one searchable tag of a file.
type FileTag struct {
	bun.BaseModel `bun:"table:file_tags"`

	AccountID  string `bun:"account_id,notnull"`
	FileID     string `bun:"file_id,pk"`
	Name       string `bun:"name,pk"`
	UploadedAt int64  `bun:"uploaded_at,notnull"`
}

// InsertFiles inserts files and their searchable tags, in one statement
// each.
func InsertFiles(c ctx, db bun.IDB, files []*File) error {
	if len(files) == 0 {
		return nil
	}
	var tags []FileTag
	for _, f := range files {
		if f.Tags == nil {
			f.Tags = []Tag{}
		}
		seen := map[string]bool{}
		for _, t := range f.Tags {
			if t.Searchable && !seen[t.Name] {
				seen[t.Name] = true
				tags = append(tags, FileTag{AccountID: f.AccountID, FileID: f.ID, Name: t.Name, UploadedAt: f.UploadedAt})
			}
		}
	}
	if _, err := db.NewInsert().Model(&files).Exec(c); err != nil {
		return err
	}
	if len(tags) > 0 {
		if _, err := db.NewInsert().Model(&tags).Exec(c); err != nil {
			return err
		}
	}
	return nil
}

// GetFileAny loads a file by ID whatever its account (for delivery by URL and
// for idempotent finishing, never for API reads).
func GetFileAny(c ctx, db bun.IDB, id string) (*File, error) {
	f := new(File)
	err := db.NewSelect().Model(f).Where("id = ?", id).Scan(c)
	return f, notFound(err)
}

// GetFile loads the account's file.
func GetFile(c ctx, db bun.IDB, accountID, id string) (*File, error) {
	f := new(File)
	err := db.NewSelect().Model(f).Where("id = ?", id).Where("account_id = ?", accountID).Scan(c)
	return f, notFound(err)
}

// GetFiles loads the account's files among ids, in no particular order.
func GetFiles(c ctx, db bun.IDB, accountID string, ids []string) ([]File, error) {
	var fs []File
	if len(ids) == 0 {
		return fs, nil
	}
	err := db.NewSelect().Model(&fs).Where("account_id = ?", accountID).Where("id IN (?)", bun.In(ids)).Scan(c)
	return fs, err
}

// DeleteFiles deletes the account's files among ids (tags and render jobs
// go with them), takes their bytes off the account's usage, and returns the
// IDs that were deleted. Run it in a transaction.
func DeleteFiles(c ctx, db bun.IDB, accountID string, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var gone []struct {
		ID   string `bun:"id"`
		Size int64  `bun:"size"`
	}
	err := db.NewDelete().Model((*File)(nil)).Where("account_id = ?", accountID).Where("id IN (?)", bun.In(ids)).Returning("id, size").Scan(c, &gone)
	if err != nil || len(gone) == 0 {
		return nil, err
	}
	deleted := make([]string, len(gone))
	var bytes int64
	for i, g := range gone {
		deleted[i] = g.ID
		bytes += g.Size
	}
	// Dependents are deleted explicitly (SQLite enforces ON DELETE CASCADE
	// only with foreign_keys on, and this must not depend on a pragma), by
	// the IDs just deleted: the account's own, found by primary key.
	if _, err := db.NewDelete().Model((*FileTag)(nil)).Where("file_id IN (?)", bun.In(deleted)).Exec(c); err != nil {
		return nil, err
	}
	if _, err := db.NewDelete().Model((*TransformJob)(nil)).Where("file_id IN (?)", bun.In(deleted)).Exec(c); err != nil {
		return nil, err
	}
	if err := ReleaseStorage(c, db, accountID, bytes); err != nil {
		return nil, err
	}
	return deleted, nil
}
