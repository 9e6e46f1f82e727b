package models

import (
	"github.com/uptrace/bun"
)

// Part is one part of a multipart session: a partial tus upload holding
// bytes RangeStart..RangeEnd (inclusive) of the final file.
type Part struct {
	bun.BaseModel `bun:"table:multipart_parts"`

	FileID      string `bun:"file_id,pk"`
	Index       int    `bun:"idx,pk"`
	UploadID    string `bun:"upload_id,notnull"`
	RangeStart  int64  `bun:"range_start,notnull"`
	RangeEnd    int64  `bun:"range_end,notnull"`
	ETag        string `bun:"etag,notnull"`
	CompletedAt *int64 `bun:"completed_at"`
}

// Size is the part's length in bytes.
func (p *Part) Size() int64 { return p.RangeEnd - p.RangeStart + 1 }

// GetPart loads one part of a session.
func GetPart(c ctx, db bun.IDB, fileID string, index int) (*Part, error) {
	p := new(Part)
	err := db.NewSelect().Model(p).Where("file_id = ?", fileID).Where("idx = ?", index).Scan(c)
	return p, notFound(err)
}

// GetPartByUpload finds the part held by a tus upload.
func GetPartByUpload(c ctx, db bun.IDB, uploadID string) (*Part, error) {
	p := new(Part)
	err := db.NewSelect().Model(p).Where("upload_id = ?", uploadID).Scan(c)
	return p, notFound(err)
}

// ListParts returns a session's parts in order.
func ListParts(c ctx, db bun.IDB, fileID string) ([]Part, error) {
	var ps []Part
	err := db.NewSelect().Model(&ps).Where("file_id = ?", fileID).Order("idx ASC").Scan(c)
	return ps, err
}

// InsertPartOnce inserts p unless its session already has a part at its
// index, and reports whether it did.
func InsertPartOnce(c ctx, db bun.IDB, p *Part) (bool, error) {
	res, err := db.NewInsert().Model(p).On("CONFLICT (file_id, idx) DO NOTHING").Exec(c)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// CompletedParts returns the indexes of a session's completed parts.
func CompletedParts(c ctx, db bun.IDB, fileID string) ([]int, error) {
	idx := []int{}
	err := db.NewSelect().Model((*Part)(nil)).Column("idx").
		Where("file_id = ?", fileID).Where("completed_at IS NOT NULL").Order("idx ASC").Scan(c, &idx)
	return idx, err
}

// CompletePart records a part's verified ETag.
func CompletePart(c ctx, db bun.IDB, fileID string, index int, etag string, atUs int64) error {
	_, err := db.NewUpdate().Model((*Part)(nil)).Set("etag = ?", etag).Set("completed_at = ?", atUs).
		Where("file_id = ?", fileID).Where("idx = ?", index).Where("completed_at IS NULL").Exec(c)
	return err
}

// DeleteParts removes a session's part rows.
func DeleteParts(c ctx, db bun.IDB, fileID string) error {
	_, err := db.NewDelete().Model((*Part)(nil)).Where("file_id = ?", fileID).Exec(c)
	return err
}
