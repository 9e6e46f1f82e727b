package models_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"satchel/internal/testdb"
	"satchel/models"
)

func insertUploads(t *testing.T, bdb bun.IDB, acct string, n int) []string {
	t.Helper()
	var ids []string
	var ups []*models.Upload
	for i := range n {
		id := fmt.Sprintf("ModelsUpload%010d", i)
		ids = append(ids, id)
		ups = append(ups, &models.Upload{ID: id, AccountID: acct, Size: 1, CreatedAt: 1, ExpiresAt: 1 << 60})
	}
	if err := models.InsertUploads(t.Context(), bdb, ups); err != nil {
		t.Fatal(err)
	}
	return ids
}

// DeleteUploadsReturning: each row is deleted, and its ID returned, once.
func TestDeleteUploadsReturning(t *testing.T) {
	testdb.Each(t, func(t *testing.T, b testdb.Backend) {
		ctx := t.Context()
		bdb, h, acct := open(t, b)
		ids := insertUploads(t, bdb, acct, 3)
		missing := "ModelsUploadMissing001"

		var got []string
		wantSQL(t, h, []string{`DELETE FROM "uploads" AS "upload" WHERE (id IN ('ModelsUpload0000000000', 'ModelsUploadMissing001', 'ModelsUpload0000000002')) RETURNING id`}, func() {
			var err error
			if got, err = models.DeleteUploadsReturning(ctx, bdb, []string{ids[0], missing, ids[2]}); err != nil {
				t.Fatal(err)
			}
		})
		slices.Sort(got)
		if want := []string{ids[0], ids[2]}; !slices.Equal(got, want) {
			t.Errorf("deleted %v, want %v", got, want)
		}
		// Gone already: nothing deleted, no error.
		if got, err := models.DeleteUploadsReturning(ctx, bdb, []string{ids[0], missing}); err != nil || len(got) != 0 {
			t.Errorf("second delete: %v, %v; want none", got, err)
		}
		if got, err := models.DeleteUploadsReturning(ctx, bdb, nil); err != nil || len(got) != 0 {
			t.Errorf("no IDs: %v, %v", got, err)
		}
		if _, err := models.GetUpload(ctx, bdb, ids[1]); err != nil {
			t.Errorf("an upload not named was deleted: %v", err)
		}
	})
}

func TestSetSessionParts(t *testing.T) {
	testdb.Each(t, func(t *testing.T, b testdb.Backend) {
		ctx := t.Context()
		bdb, h, acct := open(t, b)
		ids := insertUploads(t, bdb, acct, 2)
		wantSQL(t, h, []string{`UPDATE "uploads" AS "upload" SET parts = 7 WHERE (id = 'ModelsUpload0000000000')`}, func() {
			if err := models.SetSessionParts(ctx, bdb, ids[0], 7); err != nil {
				t.Fatal(err)
			}
		})
		for i, want := range []int{7, 0} {
			if u, err := models.GetUpload(ctx, bdb, ids[i]); err != nil || u.Parts != want {
				t.Errorf("upload %d: parts %d (%v), want %d", i, u.Parts, err, want)
			}
		}
	})
}

// LockSession changes nothing, and holds the row until its transaction
// ends: on PostgreSQL another transaction cannot lock it meanwhile.
func TestLockSession(t *testing.T) {
	testdb.Each(t, func(t *testing.T, b testdb.Backend) {
		ctx := t.Context()
		bdb, h, acct := open(t, b)
		ids := insertUploads(t, bdb, acct, 1)
		if err := models.SetSessionParts(ctx, bdb, ids[0], 3); err != nil {
			t.Fatal(err)
		}
		tx, err := bdb.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		wantSQL(t, h, []string{`UPDATE "uploads" AS "upload" SET parts = parts WHERE (id = 'ModelsUpload0000000000')`}, func() {
			if err := models.LockSession(ctx, tx, ids[0]); err != nil {
				t.Fatal(err)
			}
		})
		if b.Name == "postgres" {
			err := bdb.RunInTx(ctx, nil, func(ctx context.Context, tx2 bun.Tx) error {
				if _, err := tx2.ExecContext(ctx, "SET LOCAL lock_timeout = '200ms'"); err != nil {
					return err
				}
				return models.LockSession(ctx, tx2, ids[0])
			})
			if err == nil || !strings.Contains(err.Error(), "55P03") {
				t.Errorf("a second transaction locking the session while the first holds it: %v, want a lock timeout (55P03)", err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := models.LockSession(ctx, bdb, ids[0]); err != nil {
			t.Errorf("after the commit: %v", err)
		}
		if u, err := models.GetUpload(ctx, bdb, ids[0]); err != nil || u.Parts != 3 {
			t.Errorf("parts %d (%v) after the locks, want 3", u.Parts, err)
		}
	})
}
