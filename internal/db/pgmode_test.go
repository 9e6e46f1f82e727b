package db

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"satchel/internal/testdb"
)

// BenchmarkPostgresQueryMode: bun statements (values in the text, no two
// alike) through pgx's default mode, which prepares each one, and through
// the one-round-trip mode Open sets.
//
//	go test -run '^$' -bench PostgresQueryMode ./internal/db
func BenchmarkPostgresQueryMode(b *testing.B) {
	url := testdb.Postgres(b).URL
	round := 0
	for _, mode := range []struct{ name, url string }{{"pgx-default", url}, {"exec", pgxURL(url)}} {
		b.Run(mode.name, func(b *testing.B) {
			ctx := context.Background()
			sqldb, err := sql.Open("pgx", mode.url)
			if err != nil {
				b.Fatal(err)
			}
			defer sqldb.Close()
			bdb := bun.NewDB(sqldb, pgdialect.New())
			if _, err := bdb.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS qm (id TEXT PRIMARY KEY, n BIGINT NOT NULL)"); err != nil {
				b.Fatal(err)
			}
			type row struct {
				bun.BaseModel `bun:"table:qm"`
				ID            string `bun:"id,pk"`
				N             int64  `bun:"n"`
			}
			round++
			b.ResetTimer()
			for i := range b.N {
				r := &row{ID: fmt.Sprintf("%s-%d-%d", mode.name, round, i), N: int64(i)}
				if _, err := bdb.NewInsert().Model(r).Exec(ctx); err != nil {
					b.Fatal(err)
				}
				if err := bdb.NewSelect().Model(r).WherePK().Scan(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestPgxURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:p%40ss@h:5432/db?sslmode=disable":           "postgres://u:p%40ss@h:5432/db?sslmode=disable&default_query_exec_mode=exec",
		"postgres://h/db?default_query_exec_mode=cache_statement": "postgres://h/db?default_query_exec_mode=cache_statement",
		"postgresql://h/db": "postgresql://h/db?default_query_exec_mode=exec",
		"postgres://h/db?options=-c%20synchronous_commit%3Doff": "postgres://h/db?options=-c%20synchronous_commit%3Doff&default_query_exec_mode=exec",
	} {
		if got := pgxURL(in); got != want {
			t.Errorf("pgxURL(%q) = %q, want %q", in, got, want)
		}
	}
}
