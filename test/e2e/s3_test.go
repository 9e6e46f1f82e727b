package e2e

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"satchel/app"
	"satchel/internal/config"
	"satchel/internal/s3test"
	"satchel/internal/testdb"
	"satchel/models"
)

// Satchel wired as `satchel serve` wires it, over an S3 bucket: a tus
// upload (resumed, with a refused checksum), a one-shot upload, a ranged
// download, a transformation, a delete; a finished upload still answers
// HEAD; one whose multipart upload vanished answers 404 and is started
// again; readiness checks the bucket.
func TestS3Smoke(t *testing.T) {
	eachOnS3(t, func(t *testing.T, b backend) {
		// The default part size here; the rest of the suite runs on S3's
		// smallest.
		s := newTestServer(t, b, func(c *config.Config) { c.S3PartSize = config.DefaultS3PartSize })
		bucket := s.bucket
		pub := s.keys.PublicKey

		// tus, in two PATCHes, the second refused once for its checksum.
		data := pseudoRandom(14, 7<<20+11)
		id := s.tusUpload(t, pub, len(data), tusMeta("filename", "data.bin", "filetype", "application/octet-stream"))
		if resp, body := s.tusPatch(t, id, 0, data[:6<<20]); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("first PATCH: %d %s", resp.StatusCode, body)
		}
		if resp, _ := s.tusHead(t, id); resp.Header.Get("Upload-Offset") != strconv.Itoa(6<<20) {
			t.Fatalf("HEAD midway: offset %q", resp.Header.Get("Upload-Offset"))
		}
		rest := data[6<<20:]
		resp, body := s.tusPatch(t, id, 6<<20, rest, "Upload-Checksum", tusChecksum("sha256", rest, true))
		wantCode(t, "mismatched PATCH", resp, body, 460, "CHECKSUM_MISMATCH")
		resp, body = s.tusPatch(t, id, 6<<20, rest, "Upload-Checksum", tusChecksum("sha256", rest, false))
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Upload-Offset") != strconv.Itoa(len(data)) {
			t.Fatalf("last PATCH: %d %s", resp.StatusCode, body)
		}
		if sum, size := s.fileSHA(t, id); sum != shaHex(data) || size != int64(len(data)) {
			t.Fatalf("file %s, %d bytes", sum, size)
		}
		if resp, _ := s.tusHead(t, id); resp.StatusCode != http.StatusOK || resp.Header.Get("Upload-Offset") != strconv.Itoa(len(data)) {
			t.Fatalf("HEAD of the finished upload: %d, offset %q", resp.StatusCode, resp.Header.Get("Upload-Offset"))
		}
		resp, body = s.do(t, http.MethodGet, "/files/"+id, "", nil, map[string]string{"Range": "bytes=6291450-6291470"})
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[6291450:6291471]) {
			t.Fatalf("ranged download: %d, %d bytes", resp.StatusCode, len(body))
		}

		// One-shot, an image, and a transformation of it.
		img := testJPEG(t, 200, 100)
		imgID := s.basicUpload(t, pub, "pic.jpg", "image/jpeg", img)
		if resp, body := s.do(t, http.MethodGet, "/files/"+imgID, "", nil, nil); resp.StatusCode != 200 || !bytes.Equal(body, img) {
			t.Fatalf("download: %d, %d bytes", resp.StatusCode, len(body))
		}
		if r := s.preset(t, "createTransformation", map[string]any{"name": "small", "width": 50, "height": 50, "fit": "INSIDE", "format": "PNG"}); len(r.Errors) > 0 {
			t.Fatalf("%+v", r.Errors)
		}
		resp, body = s.do(t, http.MethodGet, "/files/"+imgID+"/small", "", nil, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("transformation: %d %s", resp.StatusCode, body)
		}
		if w, h := imageSize(t, body, "image/png"); w != 50 || h != 25 {
			t.Fatalf("transformation %dx%d", w, h)
		}
		if keys := bucket.keysOf(t, imgID); len(keys) != 3 || !strings.HasPrefix(keys[0], "e2e/") {
			t.Fatalf("the image's keys: %v", keys)
		}

		// A multipart session: parts PUT whole (one twice), each streamed
		// into its part of the session's S3 multipart upload, which the
		// last completion completes.
		mpData := pseudoRandom(15, 11<<20)
		mpID, count, first := s.beginMultipart(t, s.keys.SecretKey, int64(len(mpData)), "big.bin")
		if count != 3 {
			t.Fatalf("%d parts", count)
		}
		for i := range count {
			part := first
			if i > 0 {
				part, _ = s.uploadPart(t, s.keys.SecretKey, mpID, i)
			}
			bytesOf := mpData[part.Range.InclusiveStart : part.Range.InclusiveEnd+1]
			resp, body := s.putPart(t, part.UploadURL, bytesOf)
			if i == 1 { // sent again whole: the part starts over
				resp, body = s.putPart(t, part.UploadURL, bytesOf)
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("PUT part %d: %d %s", i, resp.StatusCode, body)
			}
			left, sha, r := s.completePart(t, s.keys.SecretKey, mpID, i, resp.Header.Get("ETag"))
			if len(r.Errors) > 0 {
				t.Fatalf("complete part %d: %+v", i, r.Errors)
			}
			if len(left) == 0 && (sha == nil || *sha != shaHex(mpData)) {
				t.Fatalf("assembled: %v, want %s", sha, shaHex(mpData))
			}
		}
		if resp, body := s.do(t, http.MethodGet, "/files/"+mpID, "", nil, nil); resp.StatusCode != 200 || !bytes.Equal(body, mpData) {
			t.Fatalf("the assembled file: %d, %d bytes", resp.StatusCode, len(body))
		}
		if keys := bucket.srv.Keys(t, bucket.name); len(keys) != 2+1+3 {
			t.Fatalf("keys: %v (want the tus file and its info, the session's file alone, the image, its info and its transformation)", keys)
		}
		if mps := bucket.multipartUploads(t); len(mps) != 0 {
			t.Fatalf("multipart uploads left: %v", mps)
		}

		// Deleted: nothing of it stays in the bucket.
		for _, del := range []string{id, imgID, mpID} {
			if _, r := s.gql(t, s.keys.SecretKey, `mutation($id: ID!) { deleteFile(id: $id) { id } }`, map[string]any{"id": del}); len(r.Errors) > 0 {
				t.Fatalf("delete: %+v", r.Errors)
			}
			if keys := bucket.keysOf(t, del); len(keys) != 0 {
				t.Fatalf("keys left after the delete: %v", keys)
			}
		}

		// A multipart upload aborted behind Satchel's back.
		gone := s.tusUpload(t, pub, len(data), "")
		if resp, body := s.tusPatch(t, gone, 0, data[:6<<20]); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("PATCH: %d %s", resp.StatusCode, body)
		}
		bid, err := models.UploadBackendID(context.Background(), s.app.DB, gone)
		_, mp, _ := strings.Cut(bid, "+")
		if err != nil || mp == "" {
			t.Fatalf("backend ID %q, %v", bid, err)
		}
		if _, err := bucket.srv.Client().AbortMultipartUpload(context.Background(), &s3.AbortMultipartUploadInput{
			Bucket: aws.String(bucket.name), Key: aws.String("e2e/" + gone), UploadId: aws.String(mp),
		}); err != nil {
			t.Fatal(err)
		}
		if resp, _ := s.tusHead(t, gone); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("HEAD of a vanished upload: %d", resp.StatusCode)
		}
		if resp, _ := s.tusPatch(t, gone, 6<<20, data[6<<20:]); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("PATCH of a vanished upload: %d", resp.StatusCode)
		}
		if n, err := s.app.Uploads.Reconcile(context.Background()); err != nil || n != 0 {
			t.Fatalf("reconcile: %d, %v", n, err)
		}

		if resp, body := s.do(t, http.MethodGet, "/readyz", "", nil, nil); resp.StatusCode != 200 || !strings.Contains(string(body), `"storage":"ok"`) {
			t.Fatalf("readyz: %d %s", resp.StatusCode, body)
		}
	})
}

// A bad storage URL is refused when the configuration is read; a bucket
// that cannot be reached stops the start with a message that says so.
func TestS3AtStart(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Storage = "s3://Bad_Bucket?endpoint=http://127.0.0.1:1"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "bucket") {
		t.Fatalf("bad URL: %v", err)
	}
	srv := s3test.Start(t)
	for storage, says := range map[string]string{
		"s3://satchel-unreachable?endpoint=http://127.0.0.1:1": "cannot be reached",
		srv.URL("satchel-no-such-bucket", ""):                  "no such bucket",
	} {
		cfg.Storage = storage
		cfg.DatabaseURL = testdb.SQLite(t).URL
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler), io.Discard)
		if err == nil {
			a.Close()
			t.Fatalf("%s: started", storage)
		}
		if !strings.Contains(err.Error(), says) {
			t.Fatalf("%s: %v; want it to say %q", storage, err, says)
		}
	}
}
