package e2e

// Tests for upload IDs ("tickets", DESIGN.md "Upload IDs"). Every test
// runs on SQLite and on PostgreSQL through the real routes: GraphQL
// createUploadTicket with a secret key, tus creation with Upload-Metadata
// uploadId and no key, and POST /files/public/{uploadId} with no key.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"satchel/internal/ids"
	"satchel/internal/uploads"
	"satchel/models"
)

// ---------------------------------------------------------------------------
// Helpers

// shortBody sends a POST whose Content-Length promises more than the body
// holds, then half-closes the connection: the server sees the body end
// early. It returns the status (0 when no response could be read).
func (s *testServer) shortBody(t *testing.T, path string, declared int, body []byte, headers map[string]string) (int, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", s.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(15 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nConnection: close\r\n", path, s.Listener.Addr(), declared)
	for k, v := range headers {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	b.WriteString("\r\n")
	if _, err := conn.Write(append([]byte(b.String()), body...)); err != nil {
		t.Fatal(err)
	}
	conn.(*net.TCPConn).CloseWrite()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// ---------------------------------------------------------------------------
// 1. createUploadTicket

func TestUploadTicketCreate(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)

		t.Run("needs a secret key", func(t *testing.T) {
			status, r, tk := s.tryTicket(t, s.keys.PublicKey, nil)
			if status != http.StatusOK || r.errCode() != "FORBIDDEN" || tk != nil {
				t.Fatalf("public key: %d %s %+v", status, r.Data, r.Errors)
			}
			status, r, tk = s.tryTicket(t, "", nil)
			if status != http.StatusUnauthorized || r.errCode() != "UNAUTHENTICATED" || tk != nil {
				t.Fatalf("no key: %d %s %+v", status, r.Data, r.Errors)
			}
		})

		t.Run("defaults", func(t *testing.T) {
			before := time.Now()
			tk := s.newTicket(t, "", nil)
			after := time.Now()
			if !idPattern.MatchString(tk.UploadID) {
				t.Fatalf("uploadId %q is not 22 base62 characters", tk.UploadID)
			}
			if lo, hi := before.Add(time.Hour-time.Second), after.Add(time.Hour+time.Second); tk.ExpiresAt.Before(lo) || tk.ExpiresAt.After(hi) {
				t.Fatalf("expiresAt %s, want about 1h after %s", tk.ExpiresAt, before)
			}
			if want := s.cfg.PublicURL + "/files/public/" + tk.UploadID; tk.UploadURL != want {
				t.Fatalf("uploadUrl %q, want %q", tk.UploadURL, want)
			}
			if want := s.cfg.PublicURL + "/uploads/"; tk.TusEndpoint != want {
				t.Fatalf("tusEndpoint %q, want %q", tk.TusEndpoint, want)
			}
			if tk2 := s.newTicket(t, "", nil); tk2.UploadID == tk.UploadID {
				t.Fatalf("two tickets share the ID %s", tk.UploadID)
			}
		})

		t.Run("expiresInSeconds", func(t *testing.T) {
			for _, sec := range []int{60, 1, 3600} {
				before := time.Now()
				tk := s.newTicket(t, "", map[string]any{"expiresInSeconds": sec})
				after := time.Now()
				d := time.Duration(sec) * time.Second
				if lo, hi := before.Add(d-time.Second), after.Add(d+time.Second); tk.ExpiresAt.Before(lo) || tk.ExpiresAt.After(hi) {
					t.Fatalf("expiresInSeconds %d: expiresAt %s, want about %s", sec, tk.ExpiresAt, before.Add(d))
				}
			}
		})

		bad := []struct {
			name string
			in   map[string]any
		}{
			{"expiresInSeconds 0", map[string]any{"expiresInSeconds": 0}},
			{"expiresInSeconds -1", map[string]any{"expiresInSeconds": -1}},
			{"expiresInSeconds 3601", map[string]any{"expiresInSeconds": 3601}},
			{"mime nope", map[string]any{"allowedMimeTypes": []string{"nope"}}},
			{"mime among good ones", map[string]any{"allowedMimeTypes": []string{"image/*", "text/"}}},
			{"negative maxFileSize", map[string]any{"maxFileSize": -1}},
			{"tag with a space", map[string]any{"tags": []map[string]any{{"name": "bad tag"}}}},
			{"empty tag", map[string]any{"tags": []map[string]any{{"name": ""}}}},
			{"tag too long", map[string]any{"tags": []map[string]any{{"name": strings.Repeat("a", 129)}}}},
			{"fileName traversal", map[string]any{"fileName": "../../etc/passwd"}},
			{"fileName slash", map[string]any{"fileName": "a/b.txt"}},
			{"fileName backslash", map[string]any{"fileName": `a\b.txt`}},
			{"fileName dotdot", map[string]any{"fileName": ".."}},
			{"fileName NUL", map[string]any{"fileName": "evil\x00.txt"}},
			{"fileName newline", map[string]any{"fileName": "evil\r\nX-Injected: 1"}},
			{"fileName RTL override", map[string]any{"fileName": "invoice\u202etxt.exe"}},
			{"fileName leading space", map[string]any{"fileName": " x.txt"}},
			{"fileName too long", map[string]any{"fileName": strings.Repeat("a", 256)}},
		}
		for _, c := range bad {
			t.Run("bad input/"+c.name, func(t *testing.T) {
				status, r, tk := s.tryTicket(t, s.keys.SecretKey, c.in)
				if r.errCode() != "BAD_USER_INPUT" || tk != nil {
					t.Fatalf("%v: %d %s %+v", c.in, status, r.Data, r.Errors)
				}
			})
		}
	})
}

// ---------------------------------------------------------------------------
// 2. Uploading with an upload ID

func TestUploadTicketUpload(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		// The ticket belongs to another account than the bootstrap one: the
		// file must land in the ticket's account.
		otherAcct, otherSecret := s.newAccount(t, "tickets", models.KindSecret)
		ticketIn := map[string]any{
			"fileName": "avatar.txt",
			"tags": []map[string]any{
				{"name": "ticket-a"},
				{"name": "ticket-b", "searchable": false},
			},
		}
		clientTags := `[{"name":"ticket-a","searchable":false},"client-c"]`
		wantTags := []models.Tag{{Name: "ticket-a", Searchable: true}, {Name: "ticket-b", Searchable: false}, {Name: "client-c", Searchable: true}}

		check := func(t *testing.T, id string, data []byte) {
			t.Helper()
			f := s.getFile(t, otherSecret, id)
			if f == nil {
				t.Fatalf("file %s not in the ticket's account", id)
			}
			if f.AccountID != otherAcct || f.Name != "avatar.txt" || f.Mime != "text/plain" ||
				f.Size != int64(len(data)) || f.SHA256 != shaHex(data) || f.URL != s.cfg.PublicURL+"/files/"+id {
				t.Fatalf("file %+v; want account %s, name avatar.txt, text/plain, %d bytes, sha %s", f, otherAcct, len(data), shaHex(data))
			}
			if fmt.Sprint(f.Tags) != fmt.Sprint(wantTags) {
				t.Fatalf("tags %v, want %v", f.Tags, wantTags)
			}
			if g := s.getFile(t, s.keys.SecretKey, id); g != nil {
				t.Fatalf("file %s visible to the bootstrap account: %+v", id, g)
			}
			resp, got := s.do(t, http.MethodGet, "/files/"+id, "", nil, nil)
			if resp.StatusCode != http.StatusOK || !bytes.Equal(got, data) {
				t.Fatalf("GET /files/%s: %d, %d bytes", id, resp.StatusCode, len(got))
			}
		}

		t.Run("tus, no key", func(t *testing.T) {
			tk := s.newTicket(t, otherSecret, ticketIn)
			data := fill("tus", 1500)
			id := s.tusUpload(t, "", len(data), tusMeta("uploadId", tk.UploadID, "filename", "client-name.bin", "filetype", "text/plain", "tags", clientTags))
			if r, body := s.tusPatch(t, id, 0, data); r.StatusCode != http.StatusNoContent || r.Header.Get("X-File-Url") != s.cfg.PublicURL+"/files/"+id {
				t.Fatalf("patch: %d %q %s", r.StatusCode, r.Header.Get("X-File-Url"), body)
			}
			check(t, id, data)
		})

		t.Run("tus creation-with-upload, no key", func(t *testing.T) {
			tk := s.newTicket(t, otherSecret, ticketIn)
			data := fill("cwu", 700)
			resp, body := s.tusCreate(t, "", tusHeaders(len(data), tusMeta("uploadId", tk.UploadID, "filename", "x.bin", "filetype", "text/plain", "tags", clientTags)), data)
			if resp.StatusCode != http.StatusCreated || resp.Header.Get("Upload-Offset") != strconv.Itoa(len(data)) {
				t.Fatalf("create with upload: %d %q %s", resp.StatusCode, resp.Header.Get("Upload-Offset"), body)
			}
			check(t, idOf(resp.Header.Get("Location")), data)
		})

		t.Run("POST /files/public, no key", func(t *testing.T) {
			tk := s.newTicket(t, otherSecret, ticketIn)
			data := fill("post", 2048)
			id := s.publicUpload(t, tk.UploadID, data, map[string]string{
				"Content-Type": "text/plain", "X-Upload-File-Name": "client-name.bin", "X-Upload-Tags": clientTags,
			})
			check(t, id, data)
		})

		t.Run("uploadUrl from the ticket is the route", func(t *testing.T) {
			tk := s.newTicket(t, otherSecret, nil)
			data := []byte("plain upload via uploadUrl")
			resp, err := s.Client().Post(tk.UploadURL, "text/plain", bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var r struct{ FileID string }
			if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &r) != nil {
				t.Fatalf("POST %s: %d %s", tk.UploadURL, resp.StatusCode, body)
			}
			f := s.getFile(t, otherSecret, r.FileID)
			if f == nil || f.SHA256 != shaHex(data) || f.Name != "file" || len(f.Tags) != 0 {
				t.Fatalf("file %+v", f)
			}
		})
	})
}

// ---------------------------------------------------------------------------
// 3. Single use

func TestUploadTicketSingleUse(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		ctx := t.Context()

		t.Run("after a tus upload completes", func(t *testing.T) {
			tk := s.newTicket(t, "", nil)
			data := []byte("first and only")
			id := s.tusUpload(t, "", len(data), tusMeta("uploadId", tk.UploadID))
			if r, body := s.tusPatch(t, id, 0, data); r.StatusCode != http.StatusNoContent {
				t.Fatalf("patch: %d %s", r.StatusCode, body)
			}
			resp, body := s.tusCreate(t, "", tusHeaders(3, tusMeta("uploadId", tk.UploadID)), nil)
			wantError(t, "tus creation after use", resp, body, http.StatusConflict, "UPLOAD_ID_USED")
			resp, body = s.tusCreate(t, "", tusHeaders(3, tusMeta("uploadId", tk.UploadID)), []byte("abc"))
			wantError(t, "tus creation-with-upload after use", resp, body, http.StatusConflict, "UPLOAD_ID_USED")
			resp, body = s.postPublic(t, tk.UploadID, []byte("abc"), map[string]string{"Content-Type": "text/plain"})
			wantError(t, "POST after use", resp, body, http.StatusConflict, "UPLOAD_ID_USED")
		})

		t.Run("after a POST completes", func(t *testing.T) {
			tk := s.newTicket(t, "", nil)
			s.publicUpload(t, tk.UploadID, []byte("one"), nil)
			resp, body := s.postPublic(t, tk.UploadID, []byte("two"), nil)
			wantError(t, "second POST", resp, body, http.StatusConflict, "UPLOAD_ID_USED")
			resp, body = s.tusCreate(t, "", tusHeaders(3, tusMeta("uploadId", tk.UploadID)), nil)
			wantError(t, "tus creation after POST", resp, body, http.StatusConflict, "UPLOAD_ID_USED")
		})

		t.Run("an older unfinished upload can no longer finish and is swept", func(t *testing.T) {
			tk := s.newTicket(t, "", nil)
			data := fill("older", 100)
			older := s.tusUpload(t, "", len(data), tusMeta("uploadId", tk.UploadID, "filename", "older.bin"))
			if r, body := s.tusPatch(t, older, 0, data[:40]); r.StatusCode != http.StatusNoContent {
				t.Fatalf("older first patch: %d %s", r.StatusCode, body)
			}
			// A second, newer upload with the same ID completes first.
			newer := s.tusUpload(t, "", 5, tusMeta("uploadId", tk.UploadID))
			if r, body := s.tusPatch(t, newer, 0, []byte("fresh")); r.StatusCode != http.StatusNoContent {
				t.Fatalf("newer patch: %d %s", r.StatusCode, body)
			}
			if f := s.getFile(t, s.keys.SecretKey, newer); f == nil || f.SHA256 != shaHex([]byte("fresh")) {
				t.Fatalf("newer file: %+v", f)
			}
			r, body := s.tusPatch(t, older, 40, data[40:])
			wantError(t, "older upload's next PATCH", r, body, http.StatusConflict, "UPLOAD_ID_USED")
			// Again: it stays refused.
			r, body = s.tusPatch(t, older, 40, data[40:])
			wantError(t, "older upload's PATCH retried", r, body, http.StatusConflict, "UPLOAD_ID_USED")
			if f := s.getFile(t, s.keys.SecretKey, older); f != nil {
				t.Fatalf("older upload became a File: %+v", f)
			}
			if left := s.leftInStore(t, older); len(left) == 0 {
				t.Fatal("the older upload's bytes are gone before the sweep: the test cannot see the sweeper work")
			}
			if _, err := s.app.Uploads.Pending(ctx, older); err != nil {
				t.Fatalf("older upload row before the sweep: %v", err)
			}
			if _, err := s.app.Uploads.Sweep(ctx); err != nil {
				t.Fatalf("sweep: %v", err)
			}
			if _, err := s.app.Uploads.Pending(ctx, older); !errors.Is(err, uploads.ErrUploadNotFound) {
				t.Fatalf("older upload row after the sweep: %v", err)
			}
			if left := s.leftInStore(t, older); len(left) != 0 {
				t.Fatalf("older upload's bytes after the sweep: %v", left)
			}
			// The winner is untouched by the sweep.
			if f := s.getFile(t, s.keys.SecretKey, newer); f == nil {
				t.Fatal("the sweep removed the winning file")
			}
			resp, got := s.do(t, http.MethodGet, "/files/"+newer, "", nil, nil)
			if resp.StatusCode != http.StatusOK || string(got) != "fresh" {
				t.Fatalf("winner after sweep: %d %q", resp.StatusCode, got)
			}
			if f := s.getFile(t, s.keys.SecretKey, older); f != nil {
				t.Fatalf("older upload became a File after the sweep: %+v", f)
			}
		})

		t.Run("an older unfinished upload after a POST spent the ID", func(t *testing.T) {
			tk := s.newTicket(t, "", nil)
			older := s.tusUpload(t, "", 10, tusMeta("uploadId", tk.UploadID))
			if r, body := s.tusPatch(t, older, 0, []byte("01234")); r.StatusCode != http.StatusNoContent {
				t.Fatalf("older first patch: %d %s", r.StatusCode, body)
			}
			s.publicUpload(t, tk.UploadID, []byte("winner"), nil)
			r, body := s.tusPatch(t, older, 5, []byte("56789"))
			wantError(t, "older upload's PATCH", r, body, http.StatusConflict, "UPLOAD_ID_USED")
			if f := s.getFile(t, s.keys.SecretKey, older); f != nil {
				t.Fatalf("older upload became a File: %+v", f)
			}
		})
	})
}

// ---------------------------------------------------------------------------
// 4. Failed or interrupted uploads do not consume the ID

func TestUploadTicketFailuresDoNotConsume(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)

		t.Run("interrupted tus upload resumes", func(t *testing.T) {
			tk := s.newTicket(t, "", nil)
			data := fill("resume", 1000)
			id := s.tusUpload(t, "", len(data), tusMeta("uploadId", tk.UploadID, "filename", "r.bin"))
			if r, body := s.tusPatch(t, id, 0, data[:400]); r.StatusCode != http.StatusNoContent || r.Header.Get("Upload-Offset") != "400" {
				t.Fatalf("first patch: %d %q %s", r.StatusCode, r.Header.Get("Upload-Offset"), body)
			}
			if f := s.getFile(t, s.keys.SecretKey, id); f != nil {
				t.Fatalf("half an upload is a File: %+v", f)
			}
			head, body := s.tusHead(t, id)
			if head.StatusCode != http.StatusOK || head.Header.Get("Upload-Offset") != "400" || head.Header.Get("Upload-Length") != "1000" {
				t.Fatalf("HEAD: %d offset %q length %q %s", head.StatusCode, head.Header.Get("Upload-Offset"), head.Header.Get("Upload-Length"), body)
			}
			if r, body := s.tusPatch(t, id, 400, data[400:]); r.StatusCode != http.StatusNoContent {
				t.Fatalf("resume patch: %d %s", r.StatusCode, body)
			}
			if sum, size := s.fileSHA(t, id); sum != shaHex(data) || size != 1000 {
				t.Fatalf("sha %s size %d", sum, size)
			}
			resp, body := s.postPublic(t, tk.UploadID, []byte("x"), nil)
			wantError(t, "POST after the resumed upload", resp, body, http.StatusConflict, "UPLOAD_ID_USED")
		})

		t.Run("a new upload with the same ID after an unfinished one", func(t *testing.T) {
			tk := s.newTicket(t, "", nil)
			abandoned := s.tusUpload(t, "", 10, tusMeta("uploadId", tk.UploadID))
			if r, body := s.tusPatch(t, abandoned, 0, []byte("abc")); r.StatusCode != http.StatusNoContent {
				t.Fatalf("patch: %d %s", r.StatusCode, body)
			}
			// The client starts over with the same ticket.
			id := s.publicUpload(t, tk.UploadID, []byte("start over"), nil)
			if sum, _ := s.fileSHA(t, id); sum != shaHex([]byte("start over")) {
				t.Fatalf("sha %s", sum)
			}
		})

		t.Run("terminated upload", func(t *testing.T) {
			tk := s.newTicket(t, "", nil)
			id := s.tusUpload(t, "", 10, tusMeta("uploadId", tk.UploadID))
			if r, body := s.tusPatch(t, id, 0, []byte("12345")); r.StatusCode != http.StatusNoContent {
				t.Fatalf("patch: %d %s", r.StatusCode, body)
			}
			r, body := s.tusDelete(t, id)
			if r.StatusCode != http.StatusNoContent {
				t.Fatalf("DELETE: %d %s", r.StatusCode, body)
			}
			if left := s.leftInStore(t, id); len(left) != 0 {
				t.Fatalf("terminated upload left %v", left)
			}
			data := []byte("after termination")
			id2 := s.tusUpload(t, "", len(data), tusMeta("uploadId", tk.UploadID))
			if r, body := s.tusPatch(t, id2, 0, data); r.StatusCode != http.StatusNoContent {
				t.Fatalf("new upload with the same ID: %d %s", r.StatusCode, body)
			}
			if sum, _ := s.fileSHA(t, id2); sum != shaHex(data) {
				t.Fatalf("sha %s", sum)
			}
		})

		t.Run("one-shot POST with a short body", func(t *testing.T) {
			tk := s.newTicket(t, "", nil)
			status, body := s.shortBody(t, "/files/public/"+tk.UploadID, 100, []byte("only ten b"), map[string]string{"Content-Type": "text/plain"})
			if status != http.StatusBadRequest {
				t.Fatalf("short body: %d %s", status, body)
			}
			if code := errorCode(t, body); code != "BAD_USER_INPUT" {
				t.Fatalf("short body code %s", code)
			}
			id := s.publicUpload(t, tk.UploadID, []byte("complete body"), map[string]string{"Content-Type": "text/plain"})
			if sum, size := s.fileSHA(t, id); sum != shaHex([]byte("complete body")) || size != 13 {
				t.Fatalf("sha %s size %d", sum, size)
			}
		})

		t.Run("one-shot POST over the ticket's maxFileSize", func(t *testing.T) {
			tk := s.newTicket(t, "", map[string]any{"maxFileSize": 10})
			resp, body := s.postPublic(t, tk.UploadID, []byte("0123456789A"), nil)
			wantError(t, "POST 11 bytes", resp, body, http.StatusRequestEntityTooLarge, "TOO_LARGE")
			// Chunked: the server learns the size only while reading.
			resp, body, err := s.send(http.MethodPost, "/files/public/"+tk.UploadID, "", struct{ io.Reader }{bytes.NewReader(bytes.Repeat([]byte("z"), 50))}, nil)
			if err != nil {
				t.Fatal(err)
			}
			wantError(t, "chunked POST of 50 bytes", resp, body, http.StatusRequestEntityTooLarge, "TOO_LARGE")
			id := s.publicUpload(t, tk.UploadID, []byte("0123456789"), nil)
			if _, size := s.fileSHA(t, id); size != 10 {
				t.Fatalf("size %d", size)
			}
		})

		t.Run("refused types do not consume", func(t *testing.T) {
			tk := s.newTicket(t, "", map[string]any{"allowedMimeTypes": []string{"image/png"}})
			resp, body := s.postPublic(t, tk.UploadID, []byte("text"), map[string]string{"Content-Type": "text/plain"})
			wantError(t, "POST text/plain", resp, body, http.StatusUnsupportedMediaType, "MIME_NOT_ALLOWED")
			resp, body = s.tusCreate(t, "", tusHeaders(4, tusMeta("uploadId", tk.UploadID, "filetype", "text/plain")), nil)
			wantError(t, "tus text/plain", resp, body, http.StatusUnsupportedMediaType, "MIME_NOT_ALLOWED")
			s.publicUpload(t, tk.UploadID, []byte("\x89PNG"), map[string]string{"Content-Type": "image/png"})
		})
	})
}

// ---------------------------------------------------------------------------
// 5. Distinct errors

func TestUploadIDErrors(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)

		// Both routes for one upload ID: tus creation (with filetype when
		// given) and a one-shot POST (with that Content-Type).
		both := func(t *testing.T, uploadID string, size int, filetype string, status int, code string) {
			t.Helper()
			meta := []string{"uploadId", uploadID}
			if filetype != "" {
				meta = append(meta, "filetype", filetype)
			}
			resp, body := s.tusCreate(t, "", tusHeaders(size, tusMeta(meta...)), nil)
			wantError(t, "tus creation", resp, body, status, code)
			h := map[string]string{}
			if filetype != "" {
				h["Content-Type"] = filetype
			}
			resp, body = s.postPublic(t, uploadID, fill("p", size), h)
			wantError(t, "POST /files/public", resp, body, status, code)
		}

		t.Run("unknown well-formed ID", func(t *testing.T) {
			both(t, ids.New(), 5, "", http.StatusNotFound, "UPLOAD_ID_UNKNOWN")
		})
		for _, bad := range []string{"abc", "0123456789abcdefABCDEFG", "0123456789abcdefABCDE!", "0123456789abcdefABCD%20"} {
			t.Run("malformed ID "+bad, func(t *testing.T) {
				resp, body := s.tusCreate(t, "", tusHeaders(5, tusMeta("uploadId", bad)), nil)
				wantError(t, "tus creation", resp, body, http.StatusNotFound, "UPLOAD_ID_UNKNOWN")
				resp, body = s.postPublic(t, bad, []byte("hello"), nil)
				wantError(t, "POST", resp, body, http.StatusNotFound, "UPLOAD_ID_UNKNOWN")
			})
		}
		t.Run("malformed ID in tus metadata only", func(t *testing.T) {
			for _, bad := range []string{"../../etc/passwd", "x y", strings.Repeat("A", 5000)} {
				resp, body := s.tusCreate(t, "", tusHeaders(5, "uploadId "+b64(bad)), nil)
				wantError(t, "tus creation with "+bad[:min(len(bad), 20)], resp, body, http.StatusNotFound, "UPLOAD_ID_UNKNOWN")
			}
		})

		t.Run("expired", func(t *testing.T) {
			tk := s.newTicket(t, "", map[string]any{"expiresInSeconds": 1})
			waitExpired(tk)
			both(t, tk.UploadID, 5, "", http.StatusGone, "UPLOAD_ID_EXPIRED")
		})

		t.Run("expired by the service clock", func(t *testing.T) {
			tk := s.newTicket(t, "", map[string]any{"expiresInSeconds": 60})
			s.setNow(61 * time.Second)
			resp, body := s.tusCreate(t, "", tusHeaders(5, tusMeta("uploadId", tk.UploadID)), nil)
			resp2, body2 := s.postPublic(t, tk.UploadID, []byte("hello"), nil)
			s.resetNow()
			wantError(t, "tus creation", resp, body, http.StatusGone, "UPLOAD_ID_EXPIRED")
			wantError(t, "POST", resp2, body2, http.StatusGone, "UPLOAD_ID_EXPIRED")
			// Back on the real clock it is live again: expiry is a time
			// comparison, not a state.
			s.publicUpload(t, tk.UploadID, []byte("hello"), nil)
		})

		t.Run("used", func(t *testing.T) {
			tk := s.newTicket(t, "", nil)
			s.publicUpload(t, tk.UploadID, []byte("spent"), nil)
			both(t, tk.UploadID, 5, "", http.StatusConflict, "UPLOAD_ID_USED")
		})

		t.Run("used beats expired", func(t *testing.T) {
			tk := s.newTicket(t, "", map[string]any{"expiresInSeconds": 1})
			s.publicUpload(t, tk.UploadID, []byte("spent"), nil)
			waitExpired(tk)
			both(t, tk.UploadID, 5, "", http.StatusConflict, "UPLOAD_ID_USED")
		})

		t.Run("too large", func(t *testing.T) {
			tk := s.newTicket(t, "", map[string]any{"maxFileSize": 10})
			both(t, tk.UploadID, 11, "", http.StatusRequestEntityTooLarge, "TOO_LARGE")
			// tus creation-with-upload over the limit too.
			resp, body := s.tusCreate(t, "", tusHeaders(11, tusMeta("uploadId", tk.UploadID)), []byte("0123456789A"))
			wantError(t, "tus creation-with-upload", resp, body, http.StatusRequestEntityTooLarge, "TOO_LARGE")
			// Exactly the limit is fine.
			id := s.tusUpload(t, "", 10, tusMeta("uploadId", tk.UploadID))
			if r, body := s.tusPatch(t, id, 0, []byte("0123456789")); r.StatusCode != http.StatusNoContent {
				t.Fatalf("10 bytes: %d %s", r.StatusCode, body)
			}
		})

		t.Run("type not allowed", func(t *testing.T) {
			tk := s.newTicket(t, "", map[string]any{"allowedMimeTypes": []string{"image/*"}})
			both(t, tk.UploadID, 5, "text/plain", http.StatusUnsupportedMediaType, "MIME_NOT_ALLOWED")
			both(t, tk.UploadID, 5, "imagex/png", http.StatusUnsupportedMediaType, "MIME_NOT_ALLOWED")
			// No declared type: the content's sniffed type is the one checked,
			// so the refusal comes with the bytes, and nothing is kept.
			resp, body := s.postPublic(t, tk.UploadID, fill("p", 5), nil)
			wantError(t, "POST /files/public with no type", resp, body, http.StatusUnsupportedMediaType, "MIME_NOT_ALLOWED")
			id := s.tusUpload(t, "", 5, tusMeta("uploadId", tk.UploadID))
			if r, body := s.tusPatch(t, id, 0, []byte("hello")); r.StatusCode != http.StatusUnsupportedMediaType || errorCode(t, body) != "MIME_NOT_ALLOWED" {
				t.Fatalf("tus PATCH of text with no type: %d %s", r.StatusCode, body)
			}
			if f := s.getFile(t, s.keys.SecretKey, id); f != nil {
				t.Fatalf("a refused upload was committed: %+v", f)
			}
			// An allowed type goes through, and gets the declared type.
			id = s.tusUpload(t, "", 4, tusMeta("uploadId", tk.UploadID, "filetype", "image/png"))
			if r, body := s.tusPatch(t, id, 0, []byte("\x89PNG")); r.StatusCode != http.StatusNoContent {
				t.Fatalf("image/png: %d %s", r.StatusCode, body)
			}
			if f := s.getFile(t, s.keys.SecretKey, id); f == nil || f.Mime != "image/png" {
				t.Fatalf("file %+v", f)
			}
		})
	})
}

// ---------------------------------------------------------------------------
// 6. Expiry is checked at creation

func TestUploadTicketExpiryCheckedAtCreation(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		tk := s.newTicket(t, "", map[string]any{"expiresInSeconds": 2})
		data := fill("late", 600)
		id := s.tusUpload(t, "", len(data), tusMeta("uploadId", tk.UploadID, "filename", "late.bin"))
		if r, body := s.tusPatch(t, id, 0, data[:300]); r.StatusCode != http.StatusNoContent {
			t.Fatalf("first patch: %d %s", r.StatusCode, body)
		}
		waitExpired(tk)
		// The ticket has expired: no new upload may start with it...
		resp, body := s.tusCreate(t, "", tusHeaders(3, tusMeta("uploadId", tk.UploadID)), nil)
		wantError(t, "tus creation after expiry", resp, body, http.StatusGone, "UPLOAD_ID_EXPIRED")
		resp, body = s.postPublic(t, tk.UploadID, []byte("abc"), nil)
		wantError(t, "POST after expiry", resp, body, http.StatusGone, "UPLOAD_ID_EXPIRED")
		// ...but the one created in time resumes and finishes.
		head, _ := s.tusHead(t, id)
		if head.StatusCode != http.StatusOK || head.Header.Get("Upload-Offset") != "300" {
			t.Fatalf("HEAD after expiry: %d %q", head.StatusCode, head.Header.Get("Upload-Offset"))
		}
		if r, body := s.tusPatch(t, id, 300, data[300:]); r.StatusCode != http.StatusNoContent {
			t.Fatalf("PATCH after expiry: %d %s", r.StatusCode, body)
		}
		f := s.getFile(t, s.keys.SecretKey, id)
		if f == nil || f.SHA256 != shaHex(data) || f.Size != int64(len(data)) || f.Name != "late.bin" {
			t.Fatalf("file %+v", f)
		}
		// Once finished, the (expired) ID reports USED.
		resp, body = s.postPublic(t, tk.UploadID, []byte("abc"), nil)
		wantError(t, "POST after the late finish", resp, body, http.StatusConflict, "UPLOAD_ID_USED")
	})
}

// ---------------------------------------------------------------------------
// 7. Races: one ID, many uploads, exactly one File

// Each round of a race is 20 uploads with one ID. On S3 fewer rounds: a
// small upload there is some fifteen S3 requests, and the race is decided
// in the database all the same; the rounds on S3 check that S3's latencies
// between the steps change nothing, and that the sweeper clears what the
// losers left in the bucket.
const (
	raceUploads  = 20
	raceRounds   = 10
	raceRoundsS3 = 4
)

type outcome struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// outcomeOf is what one request of fire got.
func outcomeOf(resp *http.Response, body []byte, err error) outcome {
	if resp == nil {
		return outcome{err: err}
	}
	return outcome{resp.StatusCode, resp.Header, body, err}
}

// fire runs n requests at once behind a start barrier.
func fire(n int, req func(i int) outcome) []outcome {
	out := make([]outcome, n)
	start := make(chan struct{})
	var ready, done sync.WaitGroup
	for i := 0; i < n; i++ {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			out[i] = req(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return out
}

// oneWinner checks that exactly one outcome has the success status and
// every other one is 409 UPLOAD_ID_USED; it returns the winner's index.
func oneWinner(t *testing.T, outs []outcome, success int) int {
	t.Helper()
	winner := -1
	for i, o := range outs {
		if o.err != nil {
			t.Fatalf("request %d: %v", i, o.err)
		}
		switch o.status {
		case success:
			if winner >= 0 {
				t.Fatalf("requests %d and %d both succeeded", winner, i)
			}
			winner = i
		case http.StatusConflict:
			var e struct {
				Error struct{ Code, Message string }
			}
			if json.Unmarshal(o.body, &e) != nil || e.Error.Code != "UPLOAD_ID_USED" || e.Error.Message == "" {
				t.Fatalf("request %d: 409 %s, want UPLOAD_ID_USED", i, o.body)
			}
		default:
			t.Fatalf("request %d: %d %s, want %d or 409 UPLOAD_ID_USED", i, o.status, o.body, success)
		}
	}
	if winner < 0 {
		t.Fatalf("no request succeeded: %+v", outs)
	}
	return winner
}

func TestUploadTicketRace(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		ctx := t.Context()
		rounds := raceRounds
		if b.Store == s3Store {
			rounds = raceRoundsS3
		}

		t.Run("concurrent tus uploads", func(t *testing.T) {
			var losers []string
			for round := 0; round < rounds; round++ {
				before := s.fileIDs(t, s.keys.SecretKey)
				tk := s.newTicket(t, "", nil)
				uploadIDs := make([]string, raceUploads)
				datas := make([][]byte, raceUploads)
				for i := range uploadIDs {
					datas[i] = fill(fmt.Sprintf("r%d-u%d", round, i), 256)
					uploadIDs[i] = s.tusUpload(t, "", len(datas[i]), tusMeta("uploadId", tk.UploadID))
					// Half the bytes first: the racing PATCH is the final one.
					if r, body := s.tusPatch(t, uploadIDs[i], 0, datas[i][:128]); r.StatusCode != http.StatusNoContent {
						t.Fatalf("round %d upload %d first patch: %d %s", round, i, r.StatusCode, body)
					}
				}
				outs := fire(raceUploads, func(i int) outcome {
					return outcomeOf(s.tusSendPatch(uploadIDs[i], 128, datas[i][128:]))
				})
				w := oneWinner(t, outs, http.StatusNoContent)
				winID := uploadIDs[w]
				if got := outs[w].header.Get("X-File-Url"); got != s.cfg.PublicURL+"/files/"+winID {
					t.Fatalf("round %d: winner's X-File-Url %q", round, got)
				}
				added := newIDs(before, s.fileIDs(t, s.keys.SecretKey))
				if len(added) != 1 || added[0] != winID {
					t.Fatalf("round %d: new files %v, want exactly [%s]", round, added, winID)
				}
				if sum, size := s.fileSHA(t, winID); sum != shaHex(datas[w]) || size != 256 {
					t.Fatalf("round %d: winner sha %s size %d", round, sum, size)
				}
				for i, id := range uploadIDs {
					if i != w {
						losers = append(losers, id)
					}
				}
			}
			// Whatever the losers left behind, the sweeper clears it.
			if _, err := s.app.Uploads.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
			for _, id := range losers {
				if _, err := s.app.Uploads.Pending(ctx, id); !errors.Is(err, uploads.ErrUploadNotFound) {
					t.Fatalf("loser %s still pending after sweep: %v", id, err)
				}
				if left := s.leftInStore(t, id); len(left) != 0 {
					t.Fatalf("loser %s left %v", id, left)
				}
			}
		})

		t.Run("concurrent one-shot POSTs", func(t *testing.T) {
			for round := 0; round < rounds; round++ {
				before := s.fileIDs(t, s.keys.SecretKey)
				tk := s.newTicket(t, "", nil)
				datas := make([][]byte, raceUploads)
				for i := range datas {
					datas[i] = fill(fmt.Sprintf("p%d-u%d", round, i), 300)
				}
				outs := fire(raceUploads, func(i int) outcome {
					return outcomeOf(s.send(http.MethodPost, "/files/public/"+tk.UploadID, "", bytes.NewReader(datas[i]), map[string]string{"Content-Type": "application/octet-stream"}))
				})
				w := oneWinner(t, outs, http.StatusOK)
				var r struct{ FileID string }
				if err := json.Unmarshal(outs[w].body, &r); err != nil || !ids.Valid(r.FileID) {
					t.Fatalf("round %d: winner body %s", round, outs[w].body)
				}
				added := newIDs(before, s.fileIDs(t, s.keys.SecretKey))
				if len(added) != 1 || added[0] != r.FileID {
					t.Fatalf("round %d: new files %v, want exactly [%s]", round, added, r.FileID)
				}
				if sum, size := s.fileSHA(t, r.FileID); sum != shaHex(datas[w]) || size != 300 {
					t.Fatalf("round %d: winner sha %s size %d", round, sum, size)
				}
			}
		})

		t.Run("concurrent tus and POST mixed", func(t *testing.T) {
			for round := 0; round < 3; round++ {
				before := s.fileIDs(t, s.keys.SecretKey)
				tk := s.newTicket(t, "", nil)
				uploadIDs := make([]string, raceUploads/2)
				for i := range uploadIDs {
					uploadIDs[i] = s.tusUpload(t, "", 8, tusMeta("uploadId", tk.UploadID))
				}
				outs := fire(raceUploads, func(i int) outcome {
					if i < len(uploadIDs) {
						o := outcomeOf(s.tusSendPatch(uploadIDs[i], 0, []byte("tus-body")))
						if o.status == http.StatusNoContent {
							o.status = http.StatusOK // count both kinds of success alike
						}
						return o
					}
					return outcomeOf(s.send(http.MethodPost, "/files/public/"+tk.UploadID, "", bytes.NewReader([]byte("post-body")), nil))
				})
				oneWinner(t, outs, http.StatusOK)
				if added := newIDs(before, s.fileIDs(t, s.keys.SecretKey)); len(added) != 1 {
					t.Fatalf("round %d: new files %v, want exactly one", round, added)
				}
			}
		})
	})
}

// ---------------------------------------------------------------------------
// 8. Sweeper and tombstones

func TestUploadTicketSweeper(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		ctx := t.Context()

		spent := s.newTicket(t, "", nil)
		s.publicUpload(t, spent.UploadID, []byte("spent"), nil)
		// An expired ticket, minted on a clock two hours behind.
		s.setNow(-2 * time.Hour)
		expired := s.newTicket(t, "", map[string]any{"expiresInSeconds": 60})
		s.resetNow()
		if time.Until(expired.ExpiresAt) > -time.Hour {
			t.Fatalf("expired ticket's expiresAt %s is not in the past", expired.ExpiresAt)
		}
		live := s.newTicket(t, "", nil)

		probe := func(t *testing.T, id string, status int, code string) {
			t.Helper()
			resp, body := s.tusCreate(t, "", tusHeaders(3, tusMeta("uploadId", id)), nil)
			wantError(t, "tus creation", resp, body, status, code)
			resp, body = s.postPublic(t, id, []byte("abc"), nil)
			wantError(t, "POST", resp, body, status, code)
		}
		sweepAt := func(t *testing.T, d time.Duration) {
			t.Helper()
			s.setNow(d)
			_, err := s.app.Uploads.Sweep(ctx)
			s.resetNow()
			if err != nil {
				t.Fatalf("sweep: %v", err)
			}
		}

		t.Run("tombstones before the retention", func(t *testing.T) {
			probe(t, spent.UploadID, http.StatusConflict, "UPLOAD_ID_USED")
			probe(t, expired.UploadID, http.StatusGone, "UPLOAD_ID_EXPIRED")
			sweepAt(t, 0)
			probe(t, spent.UploadID, http.StatusConflict, "UPLOAD_ID_USED")
			probe(t, expired.UploadID, http.StatusGone, "UPLOAD_ID_EXPIRED")
			// Six days on, still within TicketRetention.
			sweepAt(t, uploads.TicketRetention-24*time.Hour)
			probe(t, spent.UploadID, http.StatusConflict, "UPLOAD_ID_USED")
			probe(t, expired.UploadID, http.StatusGone, "UPLOAD_ID_EXPIRED")
		})

		t.Run("a live ticket survives a sweep", func(t *testing.T) {
			id := s.tusUpload(t, "", 4, tusMeta("uploadId", live.UploadID))
			if r, body := s.tusPatch(t, id, 0, []byte("live")); r.StatusCode != http.StatusNoContent {
				t.Fatalf("live ticket after sweeps: %d %s", r.StatusCode, body)
			}
		})

		t.Run("forgotten after the retention", func(t *testing.T) {
			if uploads.TicketRetention != 7*24*time.Hour {
				t.Fatalf("TicketRetention is %s, DESIGN says 7 days", uploads.TicketRetention)
			}
			sweepAt(t, 8*24*time.Hour)
			probe(t, spent.UploadID, http.StatusNotFound, "UPLOAD_ID_UNKNOWN")
			probe(t, expired.UploadID, http.StatusNotFound, "UPLOAD_ID_UNKNOWN")
			probe(t, live.UploadID, http.StatusNotFound, "UPLOAD_ID_UNKNOWN")
			// The files the tickets made stay.
			if n := len(s.fileIDs(t, s.keys.SecretKey)); n != 2 {
				t.Fatalf("%d files after forgetting tickets, want 2", n)
			}
		})
	})
}
