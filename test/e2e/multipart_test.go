package e2e

// Multipart sessions (DESIGN.md "GraphQL": beginMultipartUpload,
// uploadPart, completeUploadPart): parts PUT in parallel and in reverse
// order, ETags, an empty file, a part resumed over tus, Int64 arithmetic
// past 2 GiB and expiry. On SQLite and on PostgreSQL.

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"satchel/internal/config"
	"satchel/internal/testdb"
	"satchel/internal/uploads"
)

func TestMultipartParallelReverse(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		pk := s.keys.PublicKey
		size := int64(12<<20 + 12345)
		data := make([]byte, size)
		rand.Read(data)
		fileID, count, first := s.beginMultipart(t, pk, size, "big.bin")
		if count != 3 || first.UploadPartIndex != 0 || first.Range.InclusiveStart != 0 || first.Range.InclusiveEnd != 5<<20-1 {
			t.Fatalf("count %d first %+v", count, first)
		}
		parts := make([]sessionPart, count)
		for i := range parts {
			p, r := s.uploadPart(t, pk, fileID, i)
			if len(r.Errors) > 0 {
				t.Fatalf("uploadPart %d: %+v", i, r.Errors)
			}
			parts[i] = p
		}
		if parts[2].Range.InclusiveStart != 10<<20 || parts[2].Range.InclusiveEnd != size-1 {
			t.Fatalf("last part range %+v", parts[2].Range)
		}
		// A part of the wrong length is refused.
		if resp, body := s.putPart(t, parts[1].UploadURL, data[:100]); resp.StatusCode != 400 || errorCode(t, body) != "BAD_USER_INPUT" {
			t.Fatalf("short part: %d %s", resp.StatusCode, body)
		}
		// All parts at once, in reverse order.
		etags := make([]string, count)
		var wg sync.WaitGroup
		for i := count - 1; i >= 0; i-- {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				p := parts[i]
				resp, body := s.putPart(t, p.UploadURL, data[p.Range.InclusiveStart:p.Range.InclusiveEnd+1])
				if resp.StatusCode != 200 || resp.Header.Get("ETag") == "" {
					t.Errorf("put %d: %d %s", i, resp.StatusCode, body)
				}
				etags[i] = resp.Header.Get("ETag")
			}(i)
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		if got := s.remaining(t, pk, fileID); !slices.Equal(got, []int{0, 1, 2}) {
			t.Fatalf("remaining before completing: %v", got)
		}
		// A wrong ETag is refused, quoted or not.
		if _, _, r := s.completePart(t, pk, fileID, 2, `"deadbeef"`); r.errCode() != "BAD_USER_INPUT" {
			t.Fatalf("wrong etag: %+v", r.Errors)
		}
		if _, _, r := s.completePart(t, pk, fileID, 7, etags[0]); r.errCode() != "BAD_USER_INPUT" {
			t.Fatalf("no such part: %+v", r.Errors)
		}
		rem, f, r := s.completePart(t, pk, fileID, 2, strings.Trim(etags[2], `"`))
		if len(r.Errors) > 0 || !slices.Equal(rem, []int{0, 1}) || f != nil {
			t.Fatalf("complete 2: %v %v %+v", rem, f, r.Errors)
		}
		rem, f, _ = s.completePart(t, pk, fileID, 0, etags[0])
		if !slices.Equal(rem, []int{1}) || f != nil {
			t.Fatalf("complete 0: %v", rem)
		}
		// Completing twice is harmless.
		if rem, _, r = s.completePart(t, pk, fileID, 0, etags[0]); len(r.Errors) > 0 || !slices.Equal(rem, []int{1}) {
			t.Fatalf("complete 0 again: %v %+v", rem, r.Errors)
		}
		rem, f, _ = s.completePart(t, pk, fileID, 1, etags[1])
		if len(rem) != 0 || f == nil || *f != shaHex(data) {
			t.Fatalf("complete last: %v %v", rem, f)
		}
		if got := s.remaining(t, pk, fileID); len(got) != 0 {
			t.Fatalf("remaining after: %v", got)
		}
		resp, body := s.do(t, http.MethodGet, "/files/"+fileID, "", nil, nil)
		if resp.StatusCode != 200 || !bytes.Equal(body, data) {
			t.Fatalf("download: %d, identical %v", resp.StatusCode, bytes.Equal(body, data))
		}
		// The parts are gone from the store; the session's rows too.
		for _, p := range parts {
			if left := s.leftInStore(t, idOf(p.UploadURL)); len(left) != 0 {
				t.Errorf("part %s left %v", idOf(p.UploadURL), left)
			}
		}
		// Another account cannot see or complete the session.
		if _, r := s.uploadPart(t, pk, "0123456789abcdefABCDEF", 0); r.errCode() != "NOT_FOUND" {
			t.Fatalf("unknown session: %+v", r.Errors)
		}
	})
}

func TestMultipartEmptyFileAndTusResume(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		pk := s.keys.PublicKey

		t.Run("empty file", func(t *testing.T) {
			fileID, count, first := s.beginMultipart(t, pk, 0, "empty.txt")
			if count != 1 || first.Range.InclusiveStart != 0 || first.Range.InclusiveEnd != -1 {
				t.Fatalf("count %d first %+v", count, first)
			}
			resp, body := s.putPart(t, first.UploadURL, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("put: %d %s", resp.StatusCode, body)
			}
			rem, f, r := s.completePart(t, pk, fileID, 0, resp.Header.Get("ETag"))
			if len(r.Errors) > 0 || len(rem) != 0 || f == nil || *f != shaHex(nil) {
				t.Fatalf("complete: %v %v %+v", rem, f, r.Errors)
			}
			if _, size := s.fileSHA(t, fileID); size != 0 {
				t.Fatalf("size %d", size)
			}
		})

		t.Run("a part resumed over tus after a cut", func(t *testing.T) {
			size := int64(5<<20 + 777)
			data := make([]byte, size)
			rand.Read(data)
			fileID, count, first := s.beginMultipart(t, pk, size, "two.bin")
			if count != 2 {
				t.Fatalf("count %d", count)
			}
			second, _ := s.uploadPart(t, pk, fileID, 1)
			head, _ := s.tusHead(t, idOf(first.UploadURL))
			if head.Header.Get("Upload-Length") != fmt.Sprint(5<<20) || head.Header.Get("Upload-Offset") != "0" {
				t.Fatalf("head: length %q offset %q", head.Header.Get("Upload-Length"), head.Header.Get("Upload-Offset"))
			}
			// First PATCH carries 1 MiB and stops (the client lost the link);
			// HEAD tells where to resume; the rest finishes with an ETag.
			if r, _ := s.tusPatch(t, idOf(first.UploadURL), 0, data[:1<<20]); r.StatusCode != 204 {
				t.Fatalf("patch 1: %d", r.StatusCode)
			}
			head, _ = s.tusHead(t, idOf(first.UploadURL))
			if head.Header.Get("Upload-Offset") != fmt.Sprint(1<<20) {
				t.Fatalf("offset after cut %q", head.Header.Get("Upload-Offset"))
			}
			r, _ := s.tusPatch(t, idOf(first.UploadURL), 1<<20, data[1<<20:5<<20])
			if r.StatusCode != 204 || r.Header.Get("ETag") == "" {
				t.Fatalf("patch 2: %d etag %q", r.StatusCode, r.Header.Get("ETag"))
			}
			etag0 := r.Header.Get("ETag")
			resp, _ := s.putPart(t, second.UploadURL, data[5<<20:])
			if _, _, r := s.completePart(t, pk, fileID, 0, etag0); len(r.Errors) > 0 {
				t.Fatalf("complete 0: %+v", r.Errors)
			}
			_, f, r2 := s.completePart(t, pk, fileID, 1, resp.Header.Get("ETag"))
			if f == nil || *f != shaHex(data) {
				t.Fatalf("assembled: %v %+v", f, r2.Errors)
			}
		})

		t.Run("parts cannot be deleted or concatenated by hand", func(t *testing.T) {
			_, _, first := s.beginMultipart(t, pk, 10, "x")
			r, body := s.tusDelete(t, idOf(first.UploadURL))
			if r.StatusCode != 403 {
				t.Fatalf("delete part: %d %s", r.StatusCode, body)
			}
			r, body = s.tusCreate(t, pk, map[string]string{"Upload-Concat": "final;" + first.UploadURL}, nil)
			if r.StatusCode != 404 {
				t.Fatalf("concat a session part: %d %s", r.StatusCode, body)
			}
		})

		t.Run("a PUT replaces an interrupted part", func(t *testing.T) {
			data := []byte("0123456789")
			fileID, _, first := s.beginMultipart(t, pk, 10, "r.txt")
			if r, _ := s.tusPatch(t, idOf(first.UploadURL), 0, []byte("xxxx")); r.StatusCode != 204 {
				t.Fatalf("patch: %d", r.StatusCode)
			}
			resp, _ := s.putPart(t, first.UploadURL, data)
			_, f, r := s.completePart(t, pk, fileID, 0, resp.Header.Get("ETag"))
			if f == nil || *f != shaHex(data) {
				t.Fatalf("assembled %v %+v", f, r.Errors)
			}
		})
	})
}

func TestMultipartArithmeticAndExpiry(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b, func(c *config.Config) { c.MaxUploadSize = 0 })
		pk := s.keys.PublicKey
		const size = int64(3<<30 + 1234567) // over 2 GiB: Int64 all the way
		fileID, count, first := s.beginMultipart(t, pk, size, "huge.bin")
		wantCount := int((size + 5<<20 - 1) / (5 << 20))
		if count != wantCount || count != uploads.PartCount(size) {
			t.Fatalf("count %d want %d", count, wantCount)
		}
		if first.Range.InclusiveEnd != 5<<20-1 {
			t.Fatalf("first %+v", first.Range)
		}
		last, r := s.uploadPart(t, pk, fileID, count-1)
		if len(r.Errors) > 0 || last.Range.InclusiveStart != int64(count-1)*(5<<20) || last.Range.InclusiveEnd != size-1 {
			t.Fatalf("last %+v %+v", last, r.Errors)
		}
		head, _ := s.tusHead(t, idOf(last.UploadURL))
		if head.Header.Get("Upload-Length") != fmt.Sprint(size-last.Range.InclusiveStart) {
			t.Fatalf("last part length %q", head.Header.Get("Upload-Length"))
		}
		if _, r := s.uploadPart(t, pk, fileID, count); r.errCode() != "BAD_USER_INPUT" {
			t.Fatalf("part past the end: %+v", r.Errors)
		}
		if got := s.remaining(t, pk, fileID); len(got) != count {
			t.Fatalf("remaining %d", len(got))
		}
		for _, bad := range []int64{-1} {
			_, r := s.gql(t, pk, `mutation($in: BeginMultipartUploadInput!) { beginMultipartUpload(input: $in) { fileId } }`,
				map[string]any{"in": map[string]any{"fileSize": bad}})
			if r.errCode() != "BAD_USER_INPUT" {
				t.Fatalf("size %d: %+v", bad, r.Errors)
			}
		}
		// Parts exist once asked for: here the first and the last.
		if n, err := s.app.DB.NewSelect().Table("multipart_parts").Where("file_id = ?", fileID).Count(t.Context()); err != nil || n != 2 {
			t.Fatalf("part rows: %d %v (want 2)", n, err)
		}
		// Never completed: the session expires, parts and all.
		s.setNow(25 * time.Hour)
		n, err := s.app.Uploads.Sweep(t.Context())
		s.resetNow()
		if err != nil || n != 3 {
			t.Fatalf("sweep: %d %v (want 3: the session and its two parts)", n, err)
		}
		if left := s.storeItems(t); len(left) != 0 {
			t.Fatalf("left in the store: %v", left)
		}
		if b.Store == fileStore {
			entries, _ := os.ReadDir(s.cfg.FilesDir())
			if len(entries) != 1 || entries[0].Name() != ".sha256" {
				t.Fatalf("left in the filestore: %v", entries)
			}
		}
		if _, r := s.uploadPart(t, pk, fileID, 0); r.errCode() != "NOT_FOUND" {
			t.Fatalf("swept session: %+v", r.Errors)
		}
	})
}

func TestMultipartTooLarge(t *testing.T) {
	s := newTestServer(t, fileBackend(testdb.SQLite(t)), func(c *config.Config) { c.MaxUploadSize = 1 << 20 })
	_, r := s.gql(t, s.keys.PublicKey, `mutation { beginMultipartUpload(input: {fileSize: 2000000}) { fileId } }`, nil)
	if r.errCode() != "TOO_LARGE" {
		t.Fatalf("%+v", r.Errors)
	}
}
