package e2e

// Multipart sessions write each part where it belongs in the file (issue 14,
// "without a second copy of the bytes"), on both stores and both databases:
// what a session keeps while its parts arrive and after, the SHA-256 computed
// as they arrive, and the repairs: a part's tus upload complete but never
// copied, a file assembled but never committed, a session begun before the
// upgrade (its parts in their tus uploads).

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"satchel/internal/storage"
	"satchel/models"
)

// multipartStores runs f on every database and store (bucket nil for the
// filestore).
func multipartStores(t *testing.T, f func(t *testing.T, s *testServer, bucket *s3Bucket)) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		f(t, s, s.bucket)
	})
}

// stored lists what the store holds: the files under the files directory
// (digest states aside), or the bucket's keys and unfinished multipart
// uploads.
func (s *testServer) stored(t *testing.T, bucket *s3Bucket) []string {
	t.Helper()
	if bucket != nil {
		names := bucket.srv.Keys(t, bucket.name)
		for _, mu := range bucket.multipartUploads(t) {
			names = append(names, mu.key+"+"+mu.id)
		}
		return names
	}
	entries, err := os.ReadDir(s.cfg.FilesDir())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.Name() != ".sha256" {
			names = append(names, e.Name())
		}
	}
	return names
}

// digestBytes reads satchel_multipart_digest_bytes_total{how} from /metrics.
func (s *testServer) digestBytes(t *testing.T, how string) int64 {
	t.Helper()
	resp, body := s.do(t, http.MethodGet, "/metrics", "", nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, `satchel_multipart_digest_bytes_total{how="`+how+`"} `); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int64(n)
		}
	}
	t.Fatalf("/metrics has no satchel_multipart_digest_bytes_total{how=%q}", how)
	return 0
}

// sendParts asks for every part of a session and PUTs it in order, and
// returns the parts and their ETags.
func (s *testServer) sendParts(t *testing.T, fileID string, count int, data []byte) ([]sessionPart, []string) {
	t.Helper()
	parts, etags := make([]sessionPart, count), make([]string, count)
	for i := range count {
		p, r := s.uploadPart(t, s.keys.PublicKey, fileID, i)
		if len(r.Errors) > 0 {
			t.Fatalf("uploadPart %d: %+v", i, r.Errors)
		}
		resp, body := s.putPart(t, p.UploadURL, data[p.Range.InclusiveStart:p.Range.InclusiveEnd+1])
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT part %d: %d %s", i, resp.StatusCode, body)
		}
		parts[i], etags[i] = p, resp.Header.Get("ETag")
	}
	return parts, etags
}

// While its parts arrive, a session is one file where they are written
// (the filestore's, S3's multipart upload); a part sent whole has nothing
// of its own, a part sent over tus has its tus upload until the file is
// done. Parts sent in order are hashed as they arrive: nothing is read back.
func TestMultipartPartsWrittenInPlace(t *testing.T) {
	multipartStores(t, func(t *testing.T, s *testServer, bucket *s3Bucket) {
		pk := s.keys.PublicKey
		data := pseudoRandom(41, 3*(5<<20)+10)
		fileID, count, _ := s.beginMultipart(t, pk, int64(len(data)), "inplace.bin")
		if got := s.stored(t, bucket); len(got) != 1 || !strings.Contains(got[0], fileID) {
			t.Fatalf("stored after the begin: %v, want the session's file alone", got)
		}
		readBack, streamed := s.digestBytes(t, "read_back"), s.digestBytes(t, "streamed")
		parts, etags := s.sendParts(t, fileID, count-1, data)
		// The last part over tus, in two PATCHes.
		last, _ := s.uploadPart(t, pk, fileID, count-1)
		from := int(last.Range.InclusiveStart)
		if r, body := s.tusPatch(t, idOf(last.UploadURL), 0, data[from:from+4]); r.StatusCode != http.StatusNoContent {
			t.Fatalf("PATCH: %d %s", r.StatusCode, body)
		}
		if got := s.stored(t, bucket); len(got) < 2 || !slices.ContainsFunc(got, func(k string) bool { return strings.Contains(k, idOf(last.UploadURL)) }) {
			t.Fatalf("stored midway: %v, want the session's file and the tus upload of the last part", got)
		}
		r, _ := s.tusPatch(t, idOf(last.UploadURL), 4, data[from+4:])
		if r.StatusCode != http.StatusNoContent || r.Header.Get("ETag") != `"`+shaHex(data[from:])+`"` {
			t.Fatalf("last PATCH: %d, ETag %q", r.StatusCode, r.Header.Get("ETag"))
		}
		parts, etags = append(parts, last), append(etags, r.Header.Get("ETag"))
		for i := range parts {
			if want := `"` + shaHex(data[parts[i].Range.InclusiveStart:parts[i].Range.InclusiveEnd+1]) + `"`; etags[i] != want {
				t.Fatalf("part %d: ETag %s, want %s", i, etags[i], want)
			}
			left, sha, r := s.completePart(t, pk, fileID, i, etags[i])
			if len(r.Errors) > 0 || (i < count-1) != (sha == nil) || len(left) != count-1-i {
				t.Fatalf("complete %d: %v %v %+v", i, left, sha, r.Errors)
			}
			if sha != nil && *sha != shaHex(data) {
				t.Fatalf("sha256 %s, want %s", *sha, shaHex(data))
			}
		}
		// The parts sent whole streamed into the digest; the tus part was
		// read back from its tus upload, when the digest reached it.
		if got := s.digestBytes(t, "streamed") - streamed; got != int64(from) {
			t.Errorf("%d bytes hashed as they arrived, want %d", got, from)
		}
		if got := s.digestBytes(t, "read_back") - readBack; got != int64(len(data)-from) {
			t.Errorf("%d bytes read back, want the tus part's %d", got, len(data)-from)
		}
		if got := s.stored(t, bucket); len(got) != 1 || !strings.Contains(got[0], fileID) {
			t.Fatalf("stored after completion: %v, want the file alone", got)
		}
		if sum, size := s.fileSHA(t, fileID); sum != shaHex(data) || size != int64(len(data)) {
			t.Fatalf("file: %s, %d bytes", sum, size)
		}
		resp, body := s.do(t, http.MethodGet, "/files/"+fileID, "", nil, map[string]string{"Range": "bytes=5242870-5242889"})
		if resp.StatusCode != http.StatusPartialContent || string(body) != string(data[5242870:5242890]) {
			t.Fatalf("range across two parts: %d %q", resp.StatusCode, body)
		}
		var n int64
		if n, _ = s.app.DB.NewSelect().Table("multipart_parts").Where("file_id = ?", fileID).Count(t.Context()); n != 0 {
			t.Fatalf("%d part rows left", n)
		}
		if n, _ = s.app.DB.NewSelect().Table("uploads").Count(t.Context()); n != 0 {
			t.Fatalf("%d upload rows left", n)
		}
	})
}

// The repairs of what a crash (or an older version) leaves.
func TestMultipartRepairs(t *testing.T) {
	multipartStores(t, func(t *testing.T, s *testServer, bucket *s3Bucket) {
		ctx := context.Background()
		pk := s.keys.PublicKey
		store := s.app.Uploads.Bytes.(*storage.Store)

		// writeTus writes a part's bytes to its tus upload behind tusd's
		// back: complete, but never copied into its session (the process
		// died in between, or the part was sent before the upgrade).
		writeTus := func(t *testing.T, p sessionPart, data []byte) {
			t.Helper()
			if r, _ := s.tusHead(t, idOf(p.UploadURL)); r.StatusCode != http.StatusOK {
				t.Fatalf("HEAD: %d", r.StatusCode)
			}
			up, err := store.GetUpload(ctx, idOf(p.UploadURL))
			if err != nil {
				t.Fatal(err)
			}
			b := data[p.Range.InclusiveStart : p.Range.InclusiveEnd+1]
			if n, err := up.WriteChunk(ctx, 0, strings.NewReader(string(b))); err != nil || n != int64(len(b)) {
				t.Fatalf("write: %d, %v", n, err)
			}
		}

		t.Run("a part's tus upload never copied", func(t *testing.T) {
			data := pseudoRandom(42, 5<<20+77)
			fileID, _, first := s.beginMultipart(t, pk, int64(len(data)), "copied.bin")
			writeTus(t, first, data)
			second, _ := s.uploadPart(t, pk, fileID, 1)
			resp, _ := s.putPart(t, second.UploadURL, data[5<<20:])
			if _, _, r := s.completePart(t, pk, fileID, 0, shaHex(data[:5<<20])); len(r.Errors) > 0 {
				t.Fatalf("complete 0: %+v", r.Errors)
			}
			if _, sha, r := s.completePart(t, pk, fileID, 1, resp.Header.Get("ETag")); sha == nil || *sha != shaHex(data) {
				t.Fatalf("assembled: %v %+v", sha, r.Errors)
			}
		})

		t.Run("assembled, never committed", func(t *testing.T) {
			data := pseudoRandom(43, 2*(5<<20)+5)
			fileID, count, _ := s.beginMultipart(t, pk, int64(len(data)), "crash.bin")
			_, etags := s.sendParts(t, fileID, count, data)
			for i := range count - 1 {
				s.completePart(t, pk, fileID, i, etags[i])
			}
			s.app.Uploads.BeforeCommit = func(string) { panic("the process dies") }
			if _, _, r := s.completePart(t, pk, fileID, count-1, etags[count-1]); r.errCode() != "INTERNAL" {
				t.Fatalf("complete the last part: %+v, want INTERNAL", r.Errors)
			}
			s.app.Uploads.BeforeCommit = nil
			// A new process knows nothing of the digest: the file is read back.
			if err := store.Forget(ctx, fileID); err != nil {
				t.Fatal(err)
			}
			if n, err := s.app.Uploads.Reconcile(ctx); err != nil || n != 1 {
				t.Fatalf("reconcile: %d, %v", n, err)
			}
			if sum, size := s.fileSHA(t, fileID); sum != shaHex(data) || size != int64(len(data)) {
				t.Fatalf("file: %s, %d bytes", sum, size)
			}
			if left, sha, r := s.completePart(t, pk, fileID, count-1, etags[count-1]); len(r.Errors) > 0 || len(left) != 0 || sha == nil || *sha != shaHex(data) {
				t.Fatalf("completed again: %v %v %+v", left, sha, r.Errors)
			}
		})

		t.Run("a session begun before the upgrade", func(t *testing.T) {
			data := pseudoRandom(44, 2*(5<<20)+9)
			fileID, count, first := s.beginMultipart(t, pk, int64(len(data)), "old.bin")
			// Then, a session had no storage of its own until it was
			// assembled, and its parts were completed from their tus
			// uploads.
			if err := store.AbortSession(ctx, fileID); err != nil {
				t.Fatal(err)
			}
			if err := models.SetUploadBackendID(ctx, s.app.DB, fileID, ""); err != nil {
				t.Fatal(err)
			}
			parts := []sessionPart{first}
			for i := 1; i < count; i++ {
				p, _ := s.uploadPart(t, pk, fileID, i)
				parts = append(parts, p)
			}
			for i, p := range parts {
				writeTus(t, p, data)
				if i < count-1 {
					etag := fmt.Sprintf("%q", shaHex(data[p.Range.InclusiveStart:p.Range.InclusiveEnd+1]))
					_, err := s.app.DB.NewUpdate().Table("multipart_parts").Set("etag = ?", etag).Set("completed_at = 1").
						Where("file_id = ?", fileID).Where("idx = ?", i).Exec(ctx)
					if err != nil {
						t.Fatal(err)
					}
				}
			}
			last := parts[count-1]
			_, sha, r := s.completePart(t, pk, fileID, count-1, shaHex(data[last.Range.InclusiveStart:]))
			if sha == nil || *sha != shaHex(data) {
				t.Fatalf("assembled: %v %+v", sha, r.Errors)
			}
			if sum, size := s.fileSHA(t, fileID); sum != shaHex(data) || size != int64(len(data)) {
				t.Fatalf("file: %s, %d bytes", sum, size)
			}
		})

		// Everything done: nothing but the three files.
		if got := s.stored(t, bucket); len(got) != 3 {
			t.Fatalf("stored: %v, want the three files", got)
		}
		if bucket == nil {
			if states, _ := os.ReadDir(filepath.Join(s.cfg.FilesDir(), ".sha256")); len(states) != 0 {
				t.Fatalf("digest states left: %v", states)
			}
		}
	})
}
