package e2e

// What an upload can leave behind (rows, bytes, spent upload IDs, an
// account's usage), to check that a refusal stored or spent nothing; and
// the upload service's clock.

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// storedState is what an upload can leave behind: rows and bytes.
type storedState struct {
	files, uploads, parts, spentTickets int
	bytesUsed                           int64
	onDisk                              []string
}

func (s *testServer) state(t testing.TB) storedState {
	t.Helper()
	ctx := context.Background()
	var st storedState
	count := func(table, where string) int {
		q := s.app.DB.NewSelect().Table(table)
		if where != "" {
			q = q.Where(where)
		}
		n, err := q.Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return int(n)
	}
	st.files = count("files", "")
	st.uploads = count("uploads", "")
	st.parts = count("multipart_parts", "")
	st.spentTickets = count("upload_tickets", "consumed_at IS NOT NULL")
	if err := s.app.DB.NewSelect().Table("accounts").ColumnExpr("COALESCE(SUM(bytes_used), 0)").Scan(ctx, &st.bytesUsed); err != nil {
		t.Fatal(err)
	}
	root := s.cfg.FilesDir()
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			st.onDisk = append(st.onDisk, rel)
		}
		return nil
	})
	return st
}

// unchanged fails when anything was stored or spent since before.
func (s *testServer) unchanged(t testing.TB, what string, before storedState) {
	t.Helper()
	after := s.state(t)
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("%s stored or spent something:\nbefore %+v\nafter  %+v", what, before, after)
	}
}

// leftOnDisk reports whether any of an upload's files remain in the store.
func (s *testServer) leftOnDisk(id string) []string {
	var left []string
	for _, p := range []string{id, id + ".info", filepath.Join(".sha256", id+".sha256")} {
		if _, err := os.Stat(filepath.Join(s.cfg.FilesDir(), p)); err == nil {
			left = append(left, p)
		}
	}
	return left
}

// setNow makes the upload service see now+d until reset. No request may
// be in flight while it changes.
func (s *testServer) setNow(d time.Duration) {
	s.app.Uploads.Now = func() time.Time { return time.Now().Add(d) }
}

func (s *testServer) resetNow() { s.app.Uploads.Now = nil }
