package storage

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/tus/tusd/v2/pkg/handler"

	"satchel/internal/ids"
	"satchel/internal/testdb"
)

// upload stores data as a finished upload of s (its row inserted first).
func (e *s3Env) upload(t *testing.T, s *Store, data []byte) string {
	t.Helper()
	id := e.begin(t, int64(len(data)))
	up, err := s.NewUpload(t.Context(), handler.FileInfo{ID: id, Size: int64(len(data)), MetaData: handler.MetaData{}})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := up.WriteChunk(t.Context(), 0, bytes.NewReader(data)); err != nil || n != int64(len(data)) {
		t.Fatalf("write: %d, %v", n, err)
	}
	return id
}

// Open reads an object as http.ServeContent does: its size from the end,
// then from wherever it seeks, a range at a time; Range requests answer
// exactly their bytes.
func TestS3ObjectReads(t *testing.T) {
	ctx := context.Background()
	e := newS3Env(t, testdb.SQLite(t))
	s := e.open(t)
	data := randomBytes(3<<20 + 77) // several windows
	id := e.upload(t, s, data)

	obj, err := s.Open(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if end, err := obj.Seek(0, io.SeekEnd); err != nil || end != int64(len(data)) {
		t.Fatalf("size %d, %v", end, err)
	}
	for _, at := range []int64{0, 1 << 20, 5, int64(len(data)) - 3, firstWindow - 1, 2 << 20} {
		if _, err := obj.Seek(at, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1000)
		n, err := io.ReadFull(obj, buf)
		want := data[at:min(at+1000, int64(len(data)))]
		if !bytes.Equal(buf[:n], want) || (n < len(buf) && err != io.ErrUnexpectedEOF) {
			t.Fatalf("read at %d: %d bytes, %v", at, n, err)
		}
	}
	obj.Seek(0, io.SeekStart)
	if all, err := io.ReadAll(obj); err != nil || !bytes.Equal(all, data) {
		t.Fatalf("read all: %d bytes, %v", len(all), err)
	}
	if n, err := obj.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("past the end: %d, %v", n, err)
	}
	if err := obj.Close(); err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obj, err := s.Open(r.Context(), id)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer obj.Close()
		http.ServeContent(w, r, "", time.Time{}, obj)
	}))
	defer srv.Close()
	for rng, want := range map[string][]byte{
		"bytes=0-9":           data[:10],
		"bytes=1048576-":      data[1<<20:],
		"bytes=-5":            data[len(data)-5:],
		"bytes=262140-262150": data[262140:262151],
	} {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.Header.Set("Range", rng)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusPartialContent || !bytes.Equal(body, want) {
			t.Fatalf("Range %s: %d, %d bytes", rng, res.StatusCode, len(body))
		}
	}

	// An empty file; a missing one.
	empty := e.upload(t, s, nil)
	if obj, err := s.Open(ctx, empty); err != nil {
		t.Fatalf("empty: %v", err)
	} else if b, err := io.ReadAll(obj); err != nil || len(b) != 0 {
		t.Fatalf("empty: %d bytes, %v", len(b), err)
	}
	if _, err := s.Open(ctx, ids.New()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}

// Derived results go under derived/<id>/; deleting by prefix deletes those
// alone; deleting a file (finished or not) leaves the bucket as it found
// it: no object, no multipart upload, no digest.
func TestS3DerivedAndDelete(t *testing.T) {
	ctx := context.Background()
	e := newS3Env(t, testdb.SQLite(t))
	s := e.open(t)
	id := e.upload(t, s, randomBytes(1000))
	for _, k := range []string{"thumb-v1", "thumb-v2", "large-v1"} {
		if err := s.PutDerived(ctx, id, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutDerived(ctx, id, "../x", nil); err == nil {
		t.Fatal("a bad key was stored")
	}
	obj, err := s.OpenDerived(ctx, id, "thumb-v2")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(obj); string(b) != "thumb-v2" {
		t.Fatalf("derived %q", b)
	}
	if err := s.DeleteDerived(ctx, id, "thumb-"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenDerived(ctx, id, "thumb-v1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted derived: %v", err)
	}
	want := []string{"sat/chel/derived/" + id + "/large-v1", "sat/chel/" + id, "sat/chel/" + id + ".info"}
	slices.Sort(want)
	if keys := e.keys(t); !slices.Equal(keys, want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}

	// Unfinished, with a part, an incomplete part and a running digest.
	unfinished := e.begin(t, 20<<20)
	if _, err := s.NewUpload(ctx, handler.FileInfo{ID: unfinished, Size: 20 << 20, MetaData: handler.MetaData{}}); err != nil {
		t.Fatal(err)
	}
	write(t, s, unfinished, randomBytes(7<<20), 0, 7<<20)
	if len(e.multipartUploads(t)) != 1 {
		t.Fatal("no multipart upload (the premise of this test)")
	}
	for _, del := range []string{id, unfinished, unfinished} {
		if err := s.Delete(ctx, del); err != nil {
			t.Fatalf("delete %s: %v", del, err)
		}
	}
	if keys := e.keys(t); len(keys) != 0 {
		t.Fatalf("keys left: %v", keys)
	}
	if mps := e.multipartUploads(t); len(mps) != 0 {
		t.Fatalf("multipart uploads left: %v", mps)
	}
	if n, _ := e.db.NewSelect().Table("upload_digests").Count(ctx); n != 0 {
		t.Fatalf("%d digests left", n)
	}
}

// Concatenation: parts of at least 5 MiB but the last are copied by S3
// (UploadPartCopy), nothing downloaded or uploaded whole; smaller ones are
// downloaded and uploaded by s3store. Either way the file is the parts in
// order. (tus concatenation, through tusd's concater.)
func TestS3Concat(t *testing.T) {
	ctx := context.Background()
	e := newS3Env(t, testdb.SQLite(t))
	calls := &countingAPI{s3API: e.srv.Client()}
	e.api = calls
	s := e.open(t)
	for _, tc := range []struct {
		name   string
		sizes  []int
		copies int
	}{
		{"5 MiB parts", []int{5 << 20, 5 << 20, 123}, 3},
		{"an empty last part", []int{5 << 20, 0}, 1},
		{"small parts", []int{1000, 5 << 20}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []byte
			parts := make([]handler.Upload, len(tc.sizes))
			for i, size := range tc.sizes {
				data := randomBytes(size)
				want = append(want, data...)
				id := e.upload(t, s, data)
				parts[i], _ = s.GetUpload(ctx, id)
			}
			finalID := e.begin(t, int64(len(want)))
			final, err := s.NewUpload(ctx, handler.FileInfo{ID: finalID, Size: int64(len(want)), IsFinal: true, MetaData: handler.MetaData{}})
			if err != nil {
				t.Fatal(err)
			}
			calls.reset()
			if err := s.Composer().Concater.AsConcatableUpload(final).ConcatUploads(ctx, parts); err != nil {
				t.Fatal(err)
			}
			if got := calls.count("UploadPartCopy"); got != tc.copies {
				t.Errorf("%d part copies, want %d", got, tc.copies)
			}
			if tc.copies > 0 && calls.count("PutObject "+"sat/chel/"+finalID) != 0 {
				t.Error("the concatenation was uploaded whole")
			}
			if got := e.object(t, "sat/chel/"+finalID); !bytes.Equal(got, want) {
				t.Fatalf("the file has %d bytes, want %d", len(got), len(want))
			}
			if got, err := s.Checksum(ctx, finalID, int64(len(want))); err != nil || got != sumOf(want) {
				t.Fatalf("digest %s, %v", got, err)
			}
		})
	}
}

// countingAPI counts the calls a store makes, by operation and by
// operation and key.
type countingAPI struct {
	s3API
	calls syncCounter
}

func (c *countingAPI) reset()                { c.calls.reset() }
func (c *countingAPI) count(what string) int { return c.calls.get(what) }

func (c *countingAPI) UploadPartCopy(ctx context.Context, in *s3.UploadPartCopyInput, opts ...func(*s3.Options)) (*s3.UploadPartCopyOutput, error) {
	c.calls.add("UploadPartCopy", aws.ToString(in.Key))
	return c.s3API.UploadPartCopy(ctx, in, opts...)
}

func (c *countingAPI) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	c.calls.add("PutObject", aws.ToString(in.Key))
	return c.s3API.PutObject(ctx, in, opts...)
}

func TestContentRange(t *testing.T) {
	for cr, want := range map[string][3]int64{
		"bytes 0-9/100":   {0, 10, 100},
		"bytes 90-99/100": {90, 100, 100},
		"":                {0, 42, 42}, // the whole object
	} {
		start, end, total, err := contentRange(cr, 42)
		if err != nil || [3]int64{start, end, total} != want {
			t.Errorf("%q: %d %d %d %v", cr, start, end, total, err)
		}
	}
	for _, bad := range []string{"bytes */100", "items 0-1/2", "bytes 0-x/2", "bytes 0-1"} {
		if _, _, _, err := contentRange(bad, 0); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
