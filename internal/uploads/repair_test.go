package uploads

import (
	"bytes"
	"crypto/rand"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/tus/tusd/v2/pkg/handler"

	"satchel/internal/dbtest"
	"satchel/internal/ids"
	"satchel/internal/s3test"
	"satchel/internal/storage"
	"satchel/internal/storedb"
	"satchel/internal/testdb"
	"satchel/models"
)

// The reconciler on S3: an upload whose bytes are all stored but whose file
// was never committed becomes a File; one whose multipart upload vanished
// (aborted behind Satchel's back, which s3store reads as complete) does
// not, and is no error: it expires like an upload never written.
func TestReconcileOnS3(t *testing.T) {
	testdb.Each(t, func(t *testing.T, b testdb.Backend) {
		ctx := t.Context()
		srv := s3test.Start(t)
		bucket := srv.Bucket(t)
		bdb := dbtest.Open(t, b)
		store, err := storage.Open(storage.Config{Kind: "s3", S3: storage.S3Config{
			Bucket: bucket, Endpoint: srv.Endpoint, Region: srv.Region, TempDir: t.TempDir(),
			IDs: storedb.BackendIDs{DB: bdb}, States: storedb.Digests{DB: bdb},
		}})
		if err != nil {
			t.Fatal(err)
		}
		acct := &models.Account{ID: ids.New(), Name: "a", CreatedAt: 1}
		if err := models.InsertAccount(ctx, bdb, acct); err != nil {
			t.Fatal(err)
		}
		s := &Service{DB: bdb, Bytes: store, Log: slog.New(slog.DiscardHandler)}
		data := make([]byte, 6<<20)
		rand.Read(data)
		complete, vanished := ids.New(), ids.New()
		for _, id := range []string{complete, vanished} {
			if err := models.InsertUploads(ctx, bdb, []*models.Upload{{ID: id, AccountID: acct.ID, Mime: "application/octet-stream", Size: int64(len(data)), CreatedAt: 1, ExpiresAt: 1 << 60}}); err != nil {
				t.Fatal(err)
			}
			up, err := store.NewUpload(ctx, handler.FileInfo{ID: id, Size: int64(len(data)), MetaData: handler.MetaData{}})
			if err != nil {
				t.Fatal(err)
			}
			n := len(data)
			if id == vanished {
				n = 5<<20 + 1
			}
			if _, err := up.WriteChunk(ctx, 0, bytes.NewReader(data[:n])); err != nil {
				t.Fatal(err)
			}
		}
		bid, _ := models.UploadBackendID(ctx, bdb, vanished)
		_, mp, _ := strings.Cut(bid, "+")
		if _, err := srv.Client().AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(vanished), UploadId: aws.String(mp)}); err != nil {
			t.Fatal(err)
		}

		n, err := s.Reconcile(ctx)
		if err != nil || n != 1 {
			t.Fatalf("reconciled %d, %v; want 1", n, err)
		}
		if f, err := models.GetFileAny(ctx, bdb, complete); err != nil || f.Size != int64(len(data)) {
			t.Fatalf("the complete upload's file: %+v, %v", f, err)
		}
		if _, err := models.GetFileAny(ctx, bdb, vanished); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("the vanished upload became a file: %v", err)
		}
		if s.setAside(vanished) {
			t.Fatal("the vanished upload was set aside as an error")
		}
	})
}
