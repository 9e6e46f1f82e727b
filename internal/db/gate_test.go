package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"
)

func TestReadOnly(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT 1":                             true,
		"  select * from files":                true,
		"(SELECT 1) UNION (SELECT 2)":          true,
		"-- comment\nSELECT 1":                 true,
		"/* c */ values (1)":                   true,
		"EXPLAIN QUERY PLAN SELECT 1":          true,
		"INSERT INTO t VALUES (1)":             false,
		"DELETE FROM t RETURNING id":           false,
		"UPDATE t SET a = 1":                   false,
		"WITH x AS (SELECT 1) DELETE FROM t":   false,
		"WITH x AS (SELECT 1) SELECT * FROM x": false, // conservative
		"PRAGMA user_version = 3":              false,
		"SELECTED":                             false,
		"select_x":                             false,
		"-- unterminated comment":              false,
		"/* unterminated":                      false,
		"":                                     false,
	} {
		if got := readOnly(q); got != want {
			t.Errorf("readOnly(%q) = %v, want %v", q, got, want)
		}
	}
}

// FuzzReadOnly: never panics, and whatever it calls read-only starts,
// past comments, blanks and parentheses, with SELECT, VALUES or EXPLAIN.
func FuzzReadOnly(f *testing.F) {
	for _, s := range []string{"SELECT 1", "--x\nselect", "/**/values", "((explain", "insert", "/*", "--"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if !readOnly(q) {
			return
		}
		s := q
		for {
			s = strings.TrimLeft(s, " \t\r\n\f(")
			if rest, ok := strings.CutPrefix(s, "--"); ok {
				_, s, _ = strings.Cut(rest, "\n")
				continue
			}
			if rest, ok := strings.CutPrefix(s, "/*"); ok {
				_, s, _ = strings.Cut(rest, "*/")
				continue
			}
			break
		}
		u := strings.ToUpper(s)
		for _, kw := range []string{"SELECT", "VALUES", "EXPLAIN"} {
			if strings.HasPrefix(u, kw) && (len(s) == len(kw) || !isWordByte(s[len(kw)])) {
				return
			}
		}
		t.Fatalf("readOnly(%q) but it starts with %q", q, s[:min(len(s), 12)])
	})
}

// Many goroutines writing at once through every path (transactions,
// statements outside them, a writing query, a prepared statement) all
// succeed, quickly: the gate queues them in the process instead of SQLite's
// sleeping busy handler, and nothing deadlocks.
func TestWriteGateConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	bdb := openTable(t, "CREATE TABLE t (id INTEGER PRIMARY KEY, g INTEGER NOT NULL)")
	const goroutines, each = 16, 40
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				id := g*each + i + 1
				var err error
				switch i % 4 {
				case 0:
					tx, terr := bdb.BeginTx(ctx, nil)
					if terr != nil {
						err = terr
						break
					}
					if _, err = tx.ExecContext(ctx, "INSERT INTO t (id, g) VALUES (?, ?)", id, g); err != nil {
						tx.Rollback()
						break
					}
					var n int
					if err = tx.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil {
						tx.Rollback()
						break
					}
					err = tx.Commit()
				case 1:
					_, err = bdb.ExecContext(ctx, "INSERT INTO t (id, g) VALUES (?, ?)", id, g)
				case 2:
					var got int
					err = bdb.QueryRowContext(ctx, "INSERT INTO t (id, g) VALUES (?, ?) RETURNING id", id, g).Scan(&got)
					if err == nil && got != id {
						err = fmt.Errorf("returned %d, want %d", got, id)
					}
				case 3:
					st, perr := bdb.PrepareContext(ctx, "INSERT INTO t (id, g) VALUES (?, ?)")
					if perr != nil {
						err = perr
						break
					}
					_, err = st.ExecContext(ctx, id, g)
					st.Close()
				}
				if err != nil {
					errs <- fmt.Errorf("goroutine %d write %d: %w", g, i, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n int
	if err := bdb.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != goroutines*each {
		t.Fatalf("rows: %d %v, want %d", n, err, goroutines*each)
	}
}

// openTable opens a fresh SQLite database as the server does and creates a
// table in it.
func openTable(t *testing.T, create string) *bun.DB {
	t.Helper()
	bdb, err := Open(context.Background(), filepath.Join(t.TempDir(), "gate.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bdb.Close() })
	if _, err := bdb.ExecContext(context.Background(), create); err != nil {
		t.Fatal(err)
	}
	return bdb
}

// A writer waiting for the gate gives up with its context, and the gate
// still works afterwards.
func TestWriteGateWaitEndsWithContext(t *testing.T) {
	ctx := context.Background()
	bdb := openTable(t, "CREATE TABLE t (id INTEGER PRIMARY KEY)")
	tx, err := bdb.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Readers outside the transaction do not queue (WAL).
	var n int
	if err := bdb.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil {
		t.Fatalf("read while the gate is held: %v", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := bdb.ExecContext(wctx, "INSERT INTO t (id) VALUES (1)"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("write while the gate is held: %v, want the context's deadline", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := bdb.ExecContext(ctx, "INSERT INTO t (id) VALUES (1)"); err != nil {
		t.Fatalf("write after the gate was released: %v", err)
	}
}

// BenchmarkConcurrentWriters: 16 goroutines each committing small
// transactions on one SQLite file, queued by the write gate or left to
// SQLite's busy handler (its sleeps); it reports each transaction's latency
// (p50, p99, max) beside the throughput.
//
//	go test -run '^$' -bench ConcurrentWriters -benchtime 3000x ./internal/db
func BenchmarkConcurrentWriters(b *testing.B) {
	for _, mode := range []string{"gate", "busy-handler"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			path := filepath.Join(b.TempDir(), "w.db")
			var sqldb *sql.DB
			var err error
			if mode == "gate" {
				sqldb, err = openSQLite(SQLiteDSN(path))
			} else {
				sqldb, err = sql.Open("sqlite", SQLiteDSN(path))
			}
			if err != nil {
				b.Fatal(err)
			}
			defer sqldb.Close()
			sqldb.SetMaxOpenConns(18)
			if _, err := sqldb.ExecContext(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT NOT NULL)"); err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(8) // 8 x GOMAXPROCS goroutines (16 on 2 cores)
			var mu sync.Mutex
			var lat []time.Duration
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				defer func() { mu.Lock(); lat = append(lat, mine...); mu.Unlock() }()
				for pb.Next() {
					t0 := time.Now()
					tx, err := sqldb.BeginTx(ctx, nil)
					if err != nil {
						b.Error(err)
						return
					}
					if _, err := tx.ExecContext(ctx, "INSERT INTO t (v) VALUES ('a'), ('b'), ('c'), ('d'), ('e'), ('f'), ('g'), ('h')"); err != nil {
						tx.Rollback()
						b.Error(err)
						return
					}
					if err := tx.Commit(); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(t0))
				}
			})
			b.StopTimer()
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
				b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
			}
		})
	}
}
