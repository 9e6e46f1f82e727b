package migrations

import (
	"context"

	"github.com/uptrace/bun"
)

// File IDs break ties in keyset order; PostgreSQL must compare them
// byte-wise, as SQLite does, whatever the database's locale, so that cursors
// mean the same on both.
func init() {
	Migrations.MustRegister(func(ctx context.Context, db *bun.DB) error {
		if db.Dialect().Name().String() != "pg" {
			return nil
		}
		for _, q := range []string{
			`ALTER TABLE file_tags DROP CONSTRAINT IF EXISTS file_tags_file_id_fkey`,
			`ALTER TABLE files ALTER COLUMN id TYPE TEXT COLLATE "C"`,
			`ALTER TABLE file_tags ALTER COLUMN file_id TYPE TEXT COLLATE "C"`,
			`ALTER TABLE file_tags ADD CONSTRAINT file_tags_file_id_fkey FOREIGN KEY (file_id) REFERENCES files (id) ON DELETE CASCADE`,
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}, nil)
}
