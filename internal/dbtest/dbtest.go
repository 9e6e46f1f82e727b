// Package dbtest gives package tests a migrated database of each backend
// (internal/testdb), as httptest gives them servers. The end-to-end tests
// start the whole server instead (test/e2e).
package dbtest

import (
	"testing"

	"github.com/uptrace/bun"

	"satchel/internal/db"
	"satchel/internal/testdb"
	"satchel/migrations"
)

// Open opens backend b's database, applies the migrations, and closes it
// when the test ends.
func Open(t testing.TB, b testdb.Backend) *bun.DB {
	t.Helper()
	ctx := t.Context()
	d, err := db.Open(ctx, b.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := migrations.Run(ctx, d); err != nil {
		t.Fatal(err)
	}
	return d
}
