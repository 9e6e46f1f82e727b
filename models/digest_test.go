package models_test

import (
	"bytes"
	"errors"
	"testing"

	"satchel/internal/testdb"
	"satchel/models"
)

// A digest state is saved, replaced, read back byte for byte and deleted.
func TestUploadDigests(t *testing.T) {
	testdb.Each(t, func(t *testing.T, b testdb.Backend) {
		ctx := t.Context()
		bdb, _, _ := open(t, b)
		const id = "ModelsDigest0000000001"
		if _, _, err := models.GetUploadDigest(ctx, bdb, id); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("no digest: %v", err)
		}
		state := []byte{0, 1, 2, 0xff, 'x'}
		for _, hashed := range []int64{5 << 20, 6 << 30} {
			state = append(state, byte(hashed))
			if err := models.SaveUploadDigest(ctx, bdb, id, hashed, state); err != nil {
				t.Fatal(err)
			}
			got, gotState, err := models.GetUploadDigest(ctx, bdb, id)
			if err != nil || got != hashed || !bytes.Equal(gotState, state) {
				t.Fatalf("read back %d %x %v; want %d %x", got, gotState, err, hashed, state)
			}
		}
		if err := models.DeleteUploadDigest(ctx, bdb, id); err != nil {
			t.Fatal(err)
		}
		if err := models.DeleteUploadDigest(ctx, bdb, id); err != nil {
			t.Fatalf("deleting none: %v", err)
		}
		if _, _, err := models.GetUploadDigest(ctx, bdb, id); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("deleted digest: %v", err)
		}
	})
}

// The store's name for an upload lives on its row: empty until recorded,
// nothing recorded (and no error) without a row.
func TestUploadBackendID(t *testing.T) {
	testdb.Each(t, func(t *testing.T, b testdb.Backend) {
		ctx := t.Context()
		bdb, _, acct := open(t, b)
		ids := insertUploads(t, bdb, acct, 1)
		if got, err := models.UploadBackendID(ctx, bdb, ids[0]); err != nil || got != "" {
			t.Fatalf("new row: %q, %v", got, err)
		}
		if err := models.SetUploadBackendID(ctx, bdb, ids[0], ids[0]+"+mp-1"); err != nil {
			t.Fatal(err)
		}
		if got, err := models.UploadBackendID(ctx, bdb, ids[0]); err != nil || got != ids[0]+"+mp-1" {
			t.Fatalf("recorded: %q, %v", got, err)
		}
		const missing = "ModelsUploadMissing001"
		if err := models.SetUploadBackendID(ctx, bdb, missing, "x+y"); err != nil {
			t.Fatalf("no row: %v", err)
		}
		if _, err := models.UploadBackendID(ctx, bdb, missing); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("no row: %v", err)
		}
	})
}
