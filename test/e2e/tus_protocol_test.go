package e2e

// The tus protocol's extensions as Satchel serves them (creation,
// creation-with-upload, deferred length, concatenation, termination,
// expiration and the sweeper), the chunk path's queries, and termination
// of finished and unfinished uploads. On SQLite and on PostgreSQL.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"satchel/models"
)

func TestTusProtocolExtensions(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		pk := s.keys.PublicKey

		t.Run("options advertises extensions", func(t *testing.T) {
			resp, _ := s.do(t, http.MethodOptions, "/uploads/", "", nil, nil)
			ext := resp.Header.Get("Tus-Extension")
			for _, e := range []string{"creation", "creation-with-upload", "creation-defer-length", "termination", "concatenation"} {
				if !strings.Contains(ext, e) {
					t.Errorf("Tus-Extension %q lacks %s", ext, e)
				}
			}
			if resp.Header.Get("Tus-Max-Size") == "" {
				t.Error("no Tus-Max-Size")
			}
		})

		t.Run("creation then patches, with Upload-Expires", func(t *testing.T) {
			data := []byte("0123456789abcdef")
			resp, _ := s.tusCreate(t, pk, map[string]string{"Upload-Length": "16", "Upload-Metadata": "filename " + b64("a.txt") + ",filetype " + b64("text/plain")}, nil)
			if resp.StatusCode != 201 {
				t.Fatalf("create: %d", resp.StatusCode)
			}
			exp, err := http.ParseTime(resp.Header.Get("Upload-Expires"))
			if err != nil || exp.Before(time.Now().Add(23*time.Hour)) {
				t.Fatalf("Upload-Expires = %q", resp.Header.Get("Upload-Expires"))
			}
			loc := resp.Header.Get("Location")
			if r, _ := s.tusPatch(t, idOf(loc), 0, data[:5]); r.StatusCode != 204 || r.Header.Get("Upload-Offset") != "5" {
				t.Fatalf("patch 1: %d %s", r.StatusCode, r.Header.Get("Upload-Offset"))
			}
			head, _ := s.tusHead(t, idOf(loc))
			if head.Header.Get("Upload-Offset") != "5" || head.Header.Get("Upload-Expires") == "" {
				t.Fatalf("head: offset %q expires %q", head.Header.Get("Upload-Offset"), head.Header.Get("Upload-Expires"))
			}
			if r, _ := s.tusPatch(t, idOf(loc), 5, data[5:]); r.StatusCode != 204 || r.Header.Get("X-File-Url") == "" {
				t.Fatalf("patch 2: %d", r.StatusCode)
			}
			if sum, size := s.fileSHA(t, idOf(loc)); sum != shaHex(data) || size != 16 {
				t.Fatalf("sha %s size %d", sum, size)
			}
		})

		t.Run("defer length", func(t *testing.T) {
			resp, _ := s.tusCreate(t, pk, map[string]string{"Upload-Defer-Length": "1"}, nil)
			loc := resp.Header.Get("Location")
			if resp.StatusCode != 201 {
				t.Fatalf("create: %d", resp.StatusCode)
			}
			r, _ := s.tusPatch(t, idOf(loc), 0, []byte("abc"))
			if r.StatusCode != 204 {
				t.Fatalf("patch: %d", r.StatusCode)
			}
			r, _ = s.tusPatch(t, idOf(loc), 3, []byte("def"), "Upload-Length", "6")
			if r.StatusCode != 204 {
				t.Fatalf("final patch: %d", r.StatusCode)
			}
			if sum, size := s.fileSHA(t, idOf(loc)); sum != shaHex([]byte("abcdef")) || size != 6 {
				t.Fatalf("sha %s size %d", sum, size)
			}
		})

		t.Run("concatenation", func(t *testing.T) {
			parts := [][]byte{bytes.Repeat([]byte("A"), 1000), bytes.Repeat([]byte("B"), 777)}
			var locs []string
			for _, p := range parts {
				resp, _ := s.tusCreate(t, pk, map[string]string{"Upload-Length": fmt.Sprint(len(p)), "Upload-Concat": "partial"}, p)
				if resp.StatusCode != 201 {
					t.Fatalf("partial: %d", resp.StatusCode)
				}
				locs = append(locs, resp.Header.Get("Location"))
			}
			// A partial is no File.
			if _, r := s.gql(t, s.keys.SecretKey, `query($id: ID!) { file(id: $id) { id } }`, map[string]any{"id": idOf(locs[0])}); string(r.Data) != `{"file":null}` {
				t.Fatalf("partial listed as file: %s", r.Data)
			}
			resp, body := s.tusCreate(t, pk, map[string]string{"Upload-Concat": "final;" + strings.Join(locs, " "), "Upload-Metadata": "filename " + b64("ab.bin")}, nil)
			if resp.StatusCode != 201 {
				t.Fatalf("final: %d %s", resp.StatusCode, body)
			}
			all := append(append([]byte{}, parts[0]...), parts[1]...)
			if sum, size := s.fileSHA(t, idOf(resp.Header.Get("Location"))); sum != shaHex(all) || size != int64(len(all)) {
				t.Fatalf("sha %s size %d", sum, size)
			}
			// The parts are gone once the final file is committed.
			for _, l := range locs {
				if left := s.leftInStore(t, idOf(l)); len(left) != 0 {
					t.Errorf("partial %s still stored: %v", idOf(l), left)
				}
			}
		})

		t.Run("concatenation of another account's parts is refused", func(t *testing.T) {
			_, otherKey := s.newAccount(t, "other", models.KindPublic)
			resp, _ := s.tusCreate(t, otherKey, map[string]string{"Upload-Length": "3", "Upload-Concat": "partial"}, []byte("xyz"))
			if resp.StatusCode != 201 {
				t.Fatalf("other partial: %d", resp.StatusCode)
			}
			for _, loc := range []string{resp.Header.Get("Location"), s.URL + "/uploads/0123456789abcdefABCDEF"} {
				r, body := s.tusCreate(t, pk, map[string]string{"Upload-Concat": "final;" + loc}, nil)
				if r.StatusCode != 404 || errorCode(t, body) != "NOT_FOUND" {
					t.Fatalf("final of foreign or unknown part %s: %d %s", loc, r.StatusCode, body)
				}
			}
		})

		t.Run("termination of an unfinished upload", func(t *testing.T) {
			resp, _ := s.tusCreate(t, pk, map[string]string{"Upload-Length": "10"}, []byte("12345"))
			loc := resp.Header.Get("Location")
			r, _ := s.tusDelete(t, idOf(loc))
			if r.StatusCode != 204 {
				t.Fatalf("delete: %d", r.StatusCode)
			}
			if _, err := s.app.Uploads.Pending(t.Context(), idOf(loc)); err == nil {
				t.Fatal("row survived termination")
			}
			r, body := s.tusHead(t, idOf(loc))
			if r.StatusCode != 404 {
				t.Fatalf("head after delete: %d %s", r.StatusCode, body)
			}
		})

		t.Run("expired uploads are swept", func(t *testing.T) {
			resp, _ := s.tusCreate(t, pk, map[string]string{"Upload-Length": "10"}, []byte("12345"))
			id := idOf(resp.Header.Get("Location"))
			s.setNow(25 * time.Hour)
			n, err := s.app.Uploads.Sweep(t.Context())
			s.resetNow()
			if err != nil || n < 1 {
				t.Fatalf("sweep: %d %v", n, err)
			}
			if left := s.leftInStore(t, id); len(left) != 0 {
				t.Fatalf("the swept upload left %v", left)
			}
			r, _ := s.tusPatch(t, id, 5, []byte("67890"))
			if r.StatusCode != 404 {
				t.Fatalf("patch after sweep: %d", r.StatusCode)
			}
		})

		t.Run("metrics", func(t *testing.T) {
			_, body := s.do(t, http.MethodGet, "/metrics", "", nil, nil)
			for _, m := range []string{"tusd_uploads_created", "satchel_files_finished_total", "satchel_file_bytes_total"} {
				if !bytes.Contains(body, []byte(m)) {
					t.Errorf("metrics lack %s", m)
				}
			}
		})
	})
}

// The chunk path makes no database queries on the filestore: an upload's
// row is read (at most) once, not on every PATCH or HEAD. Background work
// (the render workers poll every 2 s) may run a few statements meanwhile,
// so the bound is far below one per request. On S3, by design, each PATCH
// reads the upload's name in s3store (its multipart upload ID) and loads
// and saves the running digest that instances share (no load at offset 0),
// and each HEAD reads the name: exactly that many, and the same few of
// background work.
func TestTusChunksMakeNoQueries(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		const chunks, size = 32, 1024
		data := make([]byte, chunks*size)
		for i := range data {
			data[i] = byte(i)
		}
		resp, _ := s.tusCreate(t, s.keys.PublicKey, map[string]string{"Upload-Length": fmt.Sprint(len(data)), "Upload-Metadata": "filename " + b64("c.bin")}, nil)
		if resp.StatusCode != 201 {
			t.Fatalf("create: %d", resp.StatusCode)
		}
		loc := resp.Header.Get("Location")
		before := s.app.Statements.Statements()
		for i := range chunks - 1 {
			if r, body := s.tusPatch(t, idOf(loc), i*size, data[i*size:(i+1)*size]); r.StatusCode != 204 {
				t.Fatalf("patch %d: %d %s", i, r.StatusCode, body)
			}
			if r, _ := s.tusHead(t, idOf(loc)); r.StatusCode != 200 {
				t.Fatalf("head %d: %d", i, r.StatusCode)
			}
		}
		const background = 4
		n := s.app.Statements.Statements() - before
		switch b.Store {
		case fileStore:
			if n > background {
				t.Errorf("%d statements during %d PATCH and %d HEAD requests, want none per request", n, chunks-1, chunks-1)
			}
		case s3Store:
			const patches, heads = chunks - 1, chunks - 1
			want := int64(patches*3 - 1 + heads)
			if n < want || n > want+background {
				t.Errorf("%d statements during %d PATCH and %d HEAD requests, want %d (3 per PATCH but the first, which loads no digest, 1 per HEAD)", n, patches, heads, want)
			}
		}
		if r, body := s.tusPatch(t, idOf(loc), (chunks-1)*size, data[(chunks-1)*size:]); r.StatusCode != 204 {
			t.Fatalf("last patch: %d %s", r.StatusCode, body)
		}
		if sum, n := s.fileSHA(t, idOf(loc)); sum != shaHex(data) || n != int64(len(data)) {
			t.Fatalf("file: %s %d", sum, n)
		}
	})
}

func TestAPIBadInputTusTermination(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		pub := s.keys.PublicKey
		finished := s.tusUpload(t, pub, 5, tusMeta("filename", "done.txt"))
		if resp, data := s.tusPatch(t, finished, 0, []byte("hello")); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("PATCH: %d %s", resp.StatusCode, data)
		}
		unfinished := s.tusUpload(t, pub, 10, tusMeta("filename", "half.txt"))
		if resp, data := s.tusPatch(t, unfinished, 0, []byte("hello")); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("PATCH: %d %s", resp.StatusCode, data)
		}
		ctx := context.Background()
		if _, err := models.GetUpload(ctx, s.app.DB, unfinished); err != nil {
			t.Fatalf("unfinished upload row: %v", err)
		}

		runScenarios(t, s, []scenario{
			{name: "DELETE finished upload", method: "DELETE", url: "/uploads/" + finished, headers: tusBase,
				status: 403, code: "FORBIDDEN"},
			{name: "DELETE finished upload apiWith a secret key", method: "DELETE", url: "/uploads/" + finished, key: s.keys.SecretKey, headers: tusBase,
				status: 403, code: "FORBIDDEN"},
			{name: "finished file still served", method: "GET", url: "/files/" + finished,
				status: 200, contains: []string{"hello"}},
			{name: "DELETE unfinished upload", method: "DELETE", url: "/uploads/" + unfinished, headers: tusBase,
				status: 204},
			{name: "HEAD deleted upload", method: "HEAD", url: "/uploads/" + unfinished, headers: tusBase,
				status: 404, code: "NOT_FOUND"},
			{name: "PATCH deleted upload", method: "PATCH", url: "/uploads/" + unfinished,
				headers: with(tusBase, "Upload-Offset", "5", "Content-Type", "application/offset+octet-stream"), body: "world",
				status: 404, code: "NOT_FOUND"},
			{name: "DELETE deleted upload", method: "DELETE", url: "/uploads/" + unfinished, headers: tusBase,
				status: 404, code: "NOT_FOUND"},
		})

		if _, err := models.GetUpload(ctx, s.app.DB, unfinished); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("upload row after DELETE: %v, want not found", err)
		}
		if left := s.leftInStore(t, unfinished); len(left) != 0 {
			t.Errorf("left in the store after DELETE: %v", left)
		}
		code, r := s.gql(t, s.keys.SecretKey, `query($id: ID!) { file(id: $id) { name size } }`, map[string]any{"id": finished})
		if code != 200 || string(r.Data) != `{"file":{"name":"done.txt","size":5}}` {
			t.Fatalf("finished file after refused DELETE: %d %s %+v", code, r.Data, r.Errors)
		}
	})
}
