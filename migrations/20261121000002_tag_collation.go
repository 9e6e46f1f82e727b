package migrations

import (
	"context"

	"github.com/uptrace/bun"
)

// Tag listing orders and ranges over tag names byte-wise (prefix search is a
// range [tag, tag+"~")). SQLite compares TEXT byte-wise already; PostgreSQL
// needs the "C" collation for the same order in every locale.
func init() {
	Migrations.MustRegister(func(ctx context.Context, db *bun.DB) error {
		if db.Dialect().Name().String() != "pg" {
			return nil
		}
		_, err := db.ExecContext(ctx, `ALTER TABLE file_tags ALTER COLUMN name TYPE TEXT COLLATE "C"`)
		return err
	}, nil)
}
