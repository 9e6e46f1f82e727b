// Package testdb runs the same test against real SQLite and real PostgreSQL.
// PostgreSQL is reached at SATCHEL_TEST_POSTGRES (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable); each test
// gets a fresh database, dropped afterwards. Under CI=true an unreachable
// PostgreSQL fails the test instead of skipping it.
package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"satchel/internal/ids"
)

// Backend is one database a test runs against.
type Backend struct {
	Name string // "sqlite" or "postgres"
	// URL is a DATABASE_URL for the backend (a SQLite path for sqlite).
	URL string
}

// AdminURL is the PostgreSQL server used for test databases.
func AdminURL() string {
	if u := os.Getenv("SATCHEL_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

var (
	pgOnce sync.Once
	pgErr  error
)

func pgReachable() error {
	pgOnce.Do(func() {
		db, err := sql.Open("pgx", AdminURL())
		if err != nil {
			pgErr = err
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		pgErr = db.PingContext(ctx)
	})
	return pgErr
}

// Each runs f once per backend as a subtest named after it.
func Each(t *testing.T, f func(t *testing.T, b Backend)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { f(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, Postgres(t)) })
}

// SQLite returns a fresh SQLite database file in a temporary directory.
func SQLite(t testing.TB) Backend {
	return Backend{Name: "sqlite", URL: filepath.Join(t.TempDir(), "satchel.db")}
}

// Postgres creates a fresh PostgreSQL database for the test. It skips when
// PostgreSQL is unreachable, except under CI where it fails.
func Postgres(t testing.TB) Backend {
	t.Helper()
	if err := pgReachable(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL at %s is required under CI: %v", AdminURL(), err)
		}
		t.Skipf("PostgreSQL unreachable (%v); set CI=true to make this a failure", err)
	}
	name := "satchel_test_" + strings.ToLower(ids.Random(12))
	admin, err := sql.Open("pgx", AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", AdminURL())
		if err != nil {
			return
		}
		defer a.Close()
		a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	u, err := url.Parse(AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return Backend{Name: "postgres", URL: u.String()}
}

// String names the backend.
func (b Backend) String() string { return fmt.Sprintf("%s(%s)", b.Name, b.URL) }
