package models

import (
	"github.com/uptrace/bun"
)

// Part is one part of a multipart session: bytes RangeStart..RangeEnd
// (inclusive) of the final file, sent to the URL of its upload, UploadID
// (an unfinished partial upload's row, whose tus upload exists once the URL
// is used over tus).
type Part struct {
	bun.BaseModel `bun:"table:multipart_parts"`

	FileID     string `bun:"file_id,pk"`
	Index      int    `bun:"idx,pk"`
	UploadID   string `bun:"upload_id,notnull"`
	RangeStart int64  `bun:"range_start,notnull"`
	RangeEnd   int64  `bun:"range_end,notnull"`
	// SHA256 is the hex SHA-256 of the part's bytes stored in the session
	// ("" until they are), StoreTag the store's tag for them.
	SHA256   string `bun:"sha256,notnull"`
	StoreTag string `bun:"store_tag,notnull"`
	// TusUpload: the part's upload exists in the store (it was used over
	// tus); a part sent with PUT alone has none.
	TusUpload bool `bun:"tus_upload,notnull"`
	// ETag is the ETag the part was completed with.
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

// CompletePart records a part's verified ETag, if the part is still open
// and its stored bytes are still those of digest sha256; it reports
// whether it did.
func CompletePart(c ctx, db bun.IDB, fileID string, index int, etag, sha256 string, atUs int64) (bool, error) {
	res, err := db.NewUpdate().Model((*Part)(nil)).Set("etag = ?", etag).Set("completed_at = ?", atUs).
		Where("file_id = ?", fileID).Where("idx = ?", index).Where("completed_at IS NULL").Where("sha256 = ?", sha256).Exec(c)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetPartBytes records the digest and the store's tag of the bytes stored
// for a part not yet completed ("" for both: its bytes are being replaced).
// It reports whether the part was still open.
func SetPartBytes(c ctx, db bun.IDB, fileID string, index int, sha256, tag string) (bool, error) {
	res, err := db.NewUpdate().Model((*Part)(nil)).Set("sha256 = ?", sha256).Set("store_tag = ?", tag).
		Where("file_id = ?", fileID).Where("idx = ?", index).Where("completed_at IS NULL").Exec(c)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetPartTusUpload records whether a part has a tus upload in the store.
func SetPartTusUpload(c ctx, db bun.IDB, fileID string, index int, has bool) error {
	_, err := db.NewUpdate().Model((*Part)(nil)).Set("tus_upload = ?", has).
		Where("file_id = ?", fileID).Where("idx = ?", index).Exec(c)
	return err
}

// DeleteParts removes a session's part rows.
func DeleteParts(c ctx, db bun.IDB, fileID string) error {
	_, err := db.NewDelete().Model((*Part)(nil)).Where("file_id = ?", fileID).Exec(c)
	return err
}
