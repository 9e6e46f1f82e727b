package e2e

// The backends a test runs on: a database (internal/testdb: SQLite or
// PostgreSQL) and a byte store (the filestore under the data dir, or a
// bucket of its own on a real S3 server, internal/s3test: versitygw, or
// whatever SATCHEL_TEST_S3 names). A test that stores bytes runs on every
// pair (eachBackend), one on SQLite alone on both stores (eachStore); a
// test whose requests never reach the store stays on the filestore
// (eachDatabase, or fileBackend).

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"satchel/internal/config"
	"satchel/internal/s3test"
	"satchel/internal/testdb"
)

// The byte stores.
const (
	fileStore = "file"
	s3Store   = "s3"
)

// backend is a database and a byte store for a test server.
type backend struct {
	testdb.Backend        // the database: Name "sqlite" or "postgres", URL
	Store          string // fileStore or s3Store
}

func (b backend) String() string { return b.Name + "/" + b.Store }

// fileBackend is the database db over the filestore.
func fileBackend(db testdb.Backend) backend { return backend{Backend: db, Store: fileStore} }

// eachBackend runs f on every database and every byte store, each on a
// fresh database, as the subtests sqlite/file, sqlite/s3, postgres/file
// and postgres/s3 (go test -run 'Test//s3' picks the S3 ones).
func eachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	t.Helper()
	eachOf(t, []string{fileStore, s3Store}, f)
}

// eachDatabase runs f on both databases over the filestore alone
// (sqlite/file, postgres/file): for tests whose requests never reach the
// byte store, where the store cannot change the outcome.
func eachDatabase(t *testing.T, f func(t *testing.T, b backend)) {
	t.Helper()
	eachOf(t, []string{fileStore}, f)
}

// eachOnS3 runs f on both databases over S3 alone (sqlite/s3,
// postgres/s3): for tests of what only S3 has.
func eachOnS3(t *testing.T, f func(t *testing.T, b backend)) {
	t.Helper()
	eachOf(t, []string{s3Store}, f)
}

// eachStore runs f on SQLite over every byte store, as the subtests file
// and s3.
func eachStore(t *testing.T, f func(t *testing.T, b backend)) {
	t.Helper()
	for _, st := range []string{fileStore, s3Store} {
		t.Run(st, func(t *testing.T) { f(t, backend{Backend: testdb.SQLite(t), Store: st}) })
	}
}

func eachOf(t *testing.T, stores []string, f func(t *testing.T, b backend)) {
	t.Helper()
	for _, db := range []struct {
		name string
		open func(testing.TB) testdb.Backend
	}{{"sqlite", testdb.SQLite}, {"postgres", func(t testing.TB) testdb.Backend { return testdb.Postgres(t) }}} {
		t.Run(db.name, func(t *testing.T) {
			for _, st := range stores {
				t.Run(st, func(t *testing.T) { f(t, backend{Backend: db.open(t), Store: st}) })
			}
		})
	}
}

// s3Bucket is a test server's bucket on the test S3 server.
type s3Bucket struct {
	srv    *s3test.Server
	name   string
	prefix string // "e2e": every key of the store starts with "e2e/"
}

// e2ePartSize is the S3 part size of the test servers: S3's smallest, so
// that the tests' files of a few MiB span several parts.
const e2ePartSize = config.MinS3PartSize

// newS3Bucket makes a fresh bucket for a test server (removed when the test
// ends).
func newS3Bucket(t testing.TB) *s3Bucket {
	t.Helper()
	srv := s3test.Start(t)
	return &s3Bucket{srv: srv, name: srv.Bucket(t), prefix: "e2e"}
}

// storage is the SATCHEL_STORAGE value for the bucket.
func (b *s3Bucket) storage() string { return b.srv.URL(b.name, b.prefix) }

// key is name's key under the prefix.
func (b *s3Bucket) key(name string) string { return b.prefix + "/" + name }

// keysOf lists the bucket's keys that contain id.
func (b *s3Bucket) keysOf(t testing.TB, id string) []string {
	var keys []string
	for _, k := range b.srv.Keys(t, b.name) {
		if strings.Contains(k, id) {
			keys = append(keys, k)
		}
	}
	return keys
}

// multipartUpload is an unfinished S3 multipart upload and what its parts
// hold.
type multipartUpload struct {
	key, id string
	parts   int
	size    int64
	gone    bool
}

// multipartUploads lists the bucket's unfinished multipart uploads with
// the bytes of their parts (listed a few at once: the bad-input suite takes
// two snapshots of the store per request).
func (b *s3Bucket) multipartUploads(t testing.TB) []multipartUpload {
	t.Helper()
	c, ctx := b.srv.Client(), context.Background()
	var out []multipartUpload
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(b.name)}
	for {
		page, err := c.ListMultipartUploads(ctx, in)
		if err != nil {
			t.Fatalf("list the multipart uploads of %s: %v", b.name, err)
		}
		for _, u := range page.Uploads {
			out = append(out, multipartUpload{key: aws.ToString(u.Key), id: aws.ToString(u.UploadId)})
		}
		if !aws.ToBool(page.IsTruncated) {
			break
		}
		in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
	}
	errs := make([]error, len(out))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range out {
		wg.Add(1)
		sem <- struct{}{}
		go func(mu *multipartUpload) {
			defer func() { <-sem; wg.Done() }()
			parts := s3.NewListPartsPaginator(c, &s3.ListPartsInput{Bucket: aws.String(b.name), Key: aws.String(mu.key), UploadId: aws.String(mu.id)})
			for parts.HasMorePages() {
				pp, err := parts.NextPage(ctx)
				var nsu *types.NoSuchUpload
				if errors.As(err, &nsu) {
					mu.gone = true // completed or aborted since it was listed
					return
				}
				if err != nil {
					errs[i] = fmt.Errorf("list the parts of %s: %w", mu.key, err)
					return
				}
				for _, p := range pp.Parts {
					mu.parts++
					mu.size += aws.ToInt64(p.Size)
				}
			}
		}(&out[i])
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(out, func(mu multipartUpload) bool { return mu.gone })
}

// objects lists the bucket's objects and their sizes.
func (b *s3Bucket) objects(t testing.TB) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	p := s3.NewListObjectsV2Paginator(b.srv.Client(), &s3.ListObjectsV2Input{Bucket: aws.String(b.name)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list %s: %v", b.name, err)
		}
		for _, o := range page.Contents {
			out[aws.ToString(o.Key)] = aws.ToInt64(o.Size)
		}
	}
	return out
}

// put writes an object under the prefix.
func (b *s3Bucket) put(t testing.TB, name string, body []byte) {
	t.Helper()
	_, err := b.srv.Client().PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(b.name), Key: aws.String(b.key(name)), Body: strings.NewReader(string(body)),
	})
	if err != nil {
		t.Fatalf("put %s: %v", name, err)
	}
}
