package e2e

// The limits of issue 12 on every upload route: the content's sniffed type
// under type rules, revoked keys' upload IDs, the storage quota and the
// per-key cap on unfinished uploads. Each refusal is checked for its status
// and code and for leaving nothing stored or spent (s.state, see
// harness_state_test.go).

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"satchel/internal/config"
	"satchel/internal/testdb"
)

func TestLimitsSniffedTypes(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		images, _ := s.createKey(t, s.keys.SecretKey, map[string]any{"kind": "PUBLIC", "allowedMimeTypes": []string{"image/*"}})
		basic := func(body []byte, ctype string) (*http.Response, []byte) {
			h := map[string]string{}
			if ctype != "" {
				h["Content-Type"] = ctype
			}
			return s.do(t, http.MethodPost, "/files/basic", images, bytes.NewReader(body), h)
		}
		refused := []struct {
			name  string
			body  []byte
			ctype string
		}{
			{"HTML with no declared type", scriptHTML, ""},
			{"HTML declared as image/png", scriptHTML, "image/png"},
			{"short HTML declared as image/gif", []byte("<html><script>x()</script>"), "image/gif"},
			{"plain text with no declared type", []byte("just some words"), ""},
			{"a PDF declared as image/jpeg", []byte("%PDF-1.7\n" + strings.Repeat("x", 600)), "image/jpeg"},
		}
		for _, c := range refused {
			t.Run("basic "+c.name, func(t *testing.T) {
				before := s.state(t)
				resp, body := basic(c.body, c.ctype)
				wantCode(t, c.name, resp, body, http.StatusUnsupportedMediaType, "MIME_NOT_ALLOWED")
				s.unchanged(t, c.name, before)
			})
			t.Run("tus "+c.name, func(t *testing.T) {
				before := s.state(t)
				meta := ""
				if c.ctype != "" {
					meta = tusMeta("filetype", c.ctype)
				}
				id := s.tusUpload(t, images, len(c.body), meta)
				resp, body := s.tusPatch(t, id, 0, c.body)
				wantCode(t, c.name, resp, body, http.StatusUnsupportedMediaType, "MIME_NOT_ALLOWED")
				s.unchanged(t, c.name, before)
			})
		}
		t.Run("accepted", func(t *testing.T) {
			for _, c := range []struct {
				name, ctype, want string
				body              []byte
			}{
				{"PNG with no declared type", "", "image/png", fakePNG},
				{"PNG declared", "image/png", "image/png", fakePNG},
				// The sniffer cannot tell HEIC: the declared type stands.
				{"unknown bytes declared image/heic", "image/heic", "image/heic", []byte("\x00\x00\x00\x18ftypheic" + strings.Repeat("\x00", 40))},
				// An SVG sniffs as XML, which is of image/svg+xml's family.
				{"SVG declared", "image/svg+xml", "image/svg+xml", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>`)},
			} {
				resp, body := basic(c.body, c.ctype)
				id := s.uploadedID(t, c.name, resp, body)
				if f := s.getFile(t, s.keys.SecretKey, id); f == nil || f.Mime != c.want {
					t.Fatalf("%s: file %+v, want type %s", c.name, f, c.want)
				}
			}
		})
		t.Run("a key without rules takes anything and records the sniffed type", func(t *testing.T) {
			resp, body := s.do(t, http.MethodPost, "/files/basic", s.keys.PublicKey, bytes.NewReader(scriptHTML), nil)
			id := s.uploadedID(t, "HTML", resp, body)
			if f := s.getFile(t, s.keys.SecretKey, id); f == nil || !strings.HasPrefix(f.Mime, "text/html") {
				t.Fatalf("file %+v", f)
			}
		})
		t.Run("upload ID rules too", func(t *testing.T) {
			tk := s.newTicket(t, "", map[string]any{"allowedMimeTypes": []string{"image/png"}})
			before := s.state(t)
			resp, body := s.postPublic(t, tk.UploadID, scriptHTML, map[string]string{"Content-Type": "image/png"})
			wantCode(t, "ticket HTML as PNG", resp, body, http.StatusUnsupportedMediaType, "MIME_NOT_ALLOWED")
			s.unchanged(t, "ticket HTML as PNG", before)
			s.publicUpload(t, tk.UploadID, fakePNG, nil) // not spent by the refusal
		})
	})
}

func TestLimitsRevokedKeyUploadIDs(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		minter, rec := s.createKey(t, s.keys.SecretKey, map[string]any{"kind": "SECRET", "name": "backend"})
		unused := s.newTicket(t, minter, nil)
		inFlight := s.newTicket(t, minter, nil)
		inFlightID := s.tusUpload(t, "", 10, tusMeta("uploadId", inFlight.UploadID))
		if _, r := s.gql(t, s.keys.SecretKey, `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, map[string]any{"id": rec.ID}); len(r.Errors) > 0 {
			t.Fatalf("revoke: %+v", r.Errors)
		}
		before := s.state(t)
		resp, body := s.postPublic(t, unused.UploadID, []byte("hello"), nil)
		wantCode(t, "POST with a revoked key's upload ID", resp, body, http.StatusGone, "UPLOAD_ID_EXPIRED")
		resp, body = s.tusCreate(t, "", tusHeaders(5, tusMeta("uploadId", unused.UploadID)), nil)
		wantCode(t, "tus creation with a revoked key's upload ID", resp, body, http.StatusGone, "UPLOAD_ID_EXPIRED")
		s.unchanged(t, "revoked upload IDs", before)
		// An upload begun before the revocation cannot finish either.
		r, body := s.tusPatch(t, inFlightID, 0, []byte("0123456789"))
		wantCode(t, "PATCH of an upload begun before the revocation", r, body, http.StatusGone, "UPLOAD_ID_EXPIRED")
		if st := s.state(t); st.files != 0 || st.spentTickets != 0 {
			t.Fatalf("a revoked upload ID was spent: %+v", st)
		}
	})
}

func TestLimitsStorageQuota(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		s.setQuota(t, s.keys.AccountID, 100)
		first := s.basicUpload(t, s.keys.PublicKey, "a.bin", "application/octet-stream", bytes.Repeat([]byte("a"), 60))
		cases := []struct {
			name string
			send func() (*http.Response, []byte)
		}{
			{"basic with a length", func() (*http.Response, []byte) {
				return s.do(t, http.MethodPost, "/files/basic", s.keys.PublicKey, bytes.NewReader(bytes.Repeat([]byte("b"), 60)), nil)
			}},
			{"basic chunked", func() (*http.Response, []byte) {
				return s.do(t, http.MethodPost, "/files/basic", s.keys.PublicKey, struct{ *bytes.Reader }{bytes.NewReader(bytes.Repeat([]byte("b"), 60))}, nil)
			}},
			{"tus creation", func() (*http.Response, []byte) {
				return s.tusCreate(t, s.keys.PublicKey, tusHeaders(60, ""), nil)
			}},
			{"multipart", func() (*http.Response, []byte) {
				code, r := s.gql(t, s.keys.PublicKey, `mutation { beginMultipartUpload(input: {fileSize: 60}) { fileId } }`, nil)
				if len(r.Errors) == 0 {
					t.Fatalf("multipart over the quota: %s", r.Data)
				}
				return &http.Response{StatusCode: code}, []byte(fmt.Sprintf(`{"error":{"code":%q,"message":%q}}`, r.errCode(), r.Errors[0].Message))
			}},
		}
		for _, c := range cases {
			before := s.state(t)
			resp, body := c.send()
			status := http.StatusForbidden
			if c.name == "multipart" {
				status = http.StatusOK // GraphQL: the code is in the errors
			}
			wantCode(t, c.name, resp, body, status, "QUOTA_EXCEEDED")
			if !bytes.Contains(body, []byte("quota")) {
				t.Fatalf("%s: the message does not say which limit: %s", c.name, body)
			}
			s.unchanged(t, c.name, before)
		}
		// What is left still fits, and the account shows its use.
		s.basicUpload(t, s.keys.PublicKey, "b.bin", "application/octet-stream", bytes.Repeat([]byte("b"), 40))
		_, r := s.gql(t, s.keys.SecretKey, `{ account { storageUsed storageQuota } }`, nil)
		if string(r.Data) != `{"account":{"storageUsed":100,"storageQuota":100}}` {
			t.Fatalf("account: %s %+v", r.Data, r.Errors)
		}
		// Deleting gives the bytes back.
		if _, r := s.gql(t, s.keys.SecretKey, `mutation($id: ID!) { deleteFile(id: $id) { id } }`, map[string]any{"id": first}); len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		s.basicUpload(t, s.keys.PublicKey, "c.bin", "application/octet-stream", bytes.Repeat([]byte("c"), 60))
		if st := s.state(t); st.bytesUsed != 100 {
			t.Fatalf("bytes used %d, want 100", st.bytesUsed)
		}
	})
}

func TestLimitsStorageQuotaAtCommit(t *testing.T) {
	// Two uploads that each fit when they begin but not together: the
	// commit decides, exactly, and the second is refused with its bytes.
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		s.setQuota(t, s.keys.AccountID, 100)
		a := s.tusUpload(t, s.keys.PublicKey, 60, "")
		c := s.tusUpload(t, s.keys.PublicKey, 60, "")
		if r, body := s.tusPatch(t, a, 0, bytes.Repeat([]byte("a"), 60)); r.StatusCode != http.StatusNoContent {
			t.Fatalf("first: %d %s", r.StatusCode, body)
		}
		r, body := s.tusPatch(t, c, 0, bytes.Repeat([]byte("c"), 60))
		wantCode(t, "second", r, body, http.StatusForbidden, "QUOTA_EXCEEDED")
		if f := s.getFile(t, s.keys.SecretKey, c); f != nil {
			t.Fatalf("over-quota file committed: %+v", f)
		}
		if st := s.state(t); st.bytesUsed != 60 || st.uploads != 0 || st.files != 1 {
			t.Fatalf("state %+v", st)
		}
	})
}

func TestLimitsPendingUploadsPerKey(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		key, rec := s.createKey(t, s.keys.SecretKey, map[string]any{"kind": "PUBLIC", "maxPendingUploads": 2})
		if rec.MaxPendingUploads == nil || *rec.MaxPendingUploads != 2 {
			t.Fatalf("key %+v", rec)
		}
		one := s.tusUpload(t, key, 5, "")
		s.tusUpload(t, key, 5, "")
		before := s.state(t)
		resp, body := s.tusCreate(t, key, tusHeaders(5, ""), nil)
		wantCode(t, "third open upload", resp, body, http.StatusForbidden, "QUOTA_EXCEEDED")
		if !bytes.Contains(body, []byte("unfinished uploads")) {
			t.Fatalf("the message does not say which limit: %s", body)
		}
		resp, body = s.do(t, http.MethodPost, "/files/basic", key, strings.NewReader("hello"), nil)
		wantCode(t, "basic upload at the cap", resp, body, http.StatusForbidden, "QUOTA_EXCEEDED")
		s.unchanged(t, "uploads over the cap", before)
		// Finishing one makes room.
		if r, body := s.tusPatch(t, one, 0, []byte("hello")); r.StatusCode != http.StatusNoContent {
			t.Fatalf("finish: %d %s", r.StatusCode, body)
		}
		s.tusUpload(t, key, 5, "")
		// A key cannot raise the server's cap.
		_, r := s.gql(t, s.keys.SecretKey, `mutation { createApiKey(input: {kind: PUBLIC, maxPendingUploads: 0}) { key } }`, nil)
		if r.errCode() != "BAD_USER_INPUT" {
			t.Fatalf("maxPendingUploads 0: %+v", r.Errors)
		}
		_, rec2 := s.createKey(t, s.keys.SecretKey, map[string]any{"kind": "PUBLIC", "maxPendingUploads": 1 << 30})
		if rec2.MaxPendingUploads == nil || *rec2.MaxPendingUploads != s.cfg.MaxPendingUploads {
			t.Fatalf("a key above the server's cap shows %v, want %d", rec2.MaxPendingUploads, s.cfg.MaxPendingUploads)
		}
	})
}

func TestLimitsStalledBodies(t *testing.T) {
	eachStore(t, testLimitsStalledBodies)
}

func testLimitsStalledBodies(t *testing.T, b backend) {
	s := newTestServer(t, b, func(c *config.Config) { c.BodyIdleTimeout = 300 * time.Millisecond })
	addr := s.Listener.Addr().String()
	for _, c := range []struct{ name, head string }{
		{"basic", "POST /files/basic HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.keys.PublicKey + "\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n"},
		{"public", "POST /files/public/" + s.newTicket(t, "", nil).UploadID + " HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"},
		{"graphql", "POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.keys.SecretKey + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"},
		{"graphql uploadFile", "POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.keys.PublicKey + "\r\nContent-Type: multipart/form-data; boundary=XX\r\nContent-Length: 1000\r\n\r\n--XX\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\"query\":\"mutation($f: Upload!) { uploadFile(file: $f) { id } }\",\"variables\":{\"f\":null}}\r\n--XX\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{\"0\":[\"variables.f\"]}\r\n--XX\r\nContent-Disposition: form-data; name=\"0\"; filename=\"a.txt\"\r\n\r\n"},
		{"graphql without a key", "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"},
	} {
		before := s.state(t)
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte(c.head + "0123456789")) // 10 of 100 bytes, then nothing
		conn.SetReadDeadline(time.Now().Add(15 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		conn.Close()
		if resp.StatusCode != http.StatusRequestTimeout || payloadCode(t, body) != "REQUEST_TIMEOUT" {
			t.Fatalf("%s stalled: %d %s", c.name, resp.StatusCode, body)
		}
		s.unchanged(t, c.name+" stalled", before)
	}
}

// A tus upload with a deferred length is held to the key's, the upload ID's
// and the server's limits: by the length it declares, by a PATCH's
// Content-Length (refused before a byte is written) and, for a body of
// unknown length, by stopping at the bound. Nothing over a limit commits,
// and the upload ID is not spent.
func TestLimitsDeferredLength(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b, func(c *config.Config) { c.MaxUploadSize = 1_000_000 })
		small, _ := s.createKey(t, s.keys.SecretKey, map[string]any{"kind": "PUBLIC", "maxFileSize": 10})
		deferred := func(key string, meta string) string {
			t.Helper()
			h := map[string]string{"Upload-Defer-Length": "1"}
			if meta != "" {
				h["Upload-Metadata"] = meta
			}
			resp, body := s.tusCreate(t, key, h, nil)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("deferred creation: %d %s", resp.StatusCode, body)
			}
			return idOf(resp.Header.Get("Location"))
		}
		patch := func(id string, offset int, body io.Reader, kv ...string) (*http.Response, []byte) {
			return s.do(t, http.MethodPatch, "/uploads/"+id, "", body, tusPatchHeaders(offset, kv...))
		}
		offsetOf := func(id string) string {
			resp, _ := s.tusHead(t, id)
			return resp.Header.Get("Upload-Offset")
		}
		tk := s.newTicket(t, "", map[string]any{"maxFileSize": 10})
		for _, who := range []struct{ name, key, meta string }{
			{"key limited to 10 bytes", small, ""},
			{"upload ID limited to 10 bytes", "", tusMeta("uploadId", tk.UploadID)},
		} {
			t.Run(who.name, func(t *testing.T) {
				before := s.state(t)
				id := deferred(who.key, who.meta)
				resp, body := patch(id, 0, strings.NewReader("hello"), "Upload-Length", "5000")
				wantCode(t, "declaring 5000 bytes", resp, body, http.StatusRequestEntityTooLarge, "TOO_LARGE")
				resp, body = patch(id, 0, bytes.NewReader(bytes.Repeat([]byte("x"), 3000)))
				wantCode(t, "3000 bytes declared by Content-Length", resp, body, http.StatusRequestEntityTooLarge, "TOO_LARGE")
				if got := offsetOf(id); got != "0" {
					t.Fatalf("offset after refusals %s, want 0: nothing written", got)
				}
				// Chunked: no length at all. The body is cut at the bound.
				resp, body = patch(id, 0, struct{ io.Reader }{bytes.NewReader(bytes.Repeat([]byte("x"), 3000))})
				wantCode(t, "3000 bytes chunked", resp, body, http.StatusRequestEntityTooLarge, "TOO_LARGE")
				if got := offsetOf(id); got != "10" && got != "0" {
					t.Fatalf("offset %s after a chunked body over the bound: at most the bound may be kept", got)
				}
				// And the upload can never be committed over it.
				resp, body = patch(id, 10, strings.NewReader(""), "Upload-Length", "11")
				wantCode(t, "declaring 11 bytes", resp, body, http.StatusRequestEntityTooLarge, "TOO_LARGE")
				if st := s.state(t); st.files != before.files || st.spentTickets != before.spentTickets {
					t.Fatalf("something over a limit committed or spent: %+v", st)
				}
			})
		}
		t.Run("the server's limit", func(t *testing.T) {
			id := deferred(s.keys.PublicKey, "")
			big := bytes.Repeat([]byte("z"), 4<<20)
			for i := range 8 {
				resp, body := patch(id, 0, bytes.NewReader(big))
				wantCode(t, fmt.Sprintf("4 MiB PATCH %d", i), resp, body, http.StatusRequestEntityTooLarge, "TOO_LARGE")
			}
			if got := offsetOf(id); got != "0" {
				t.Fatalf("offset %s after eight refused 4 MiB PATCHes", got)
			}
			if size, ok := s.storedSize(t, id); !ok || size != 0 {
				t.Fatalf("bytes stored: %d (the upload's bytes there: %v)", size, ok)
			}
		})
		t.Run("creation with upload", func(t *testing.T) {
			before := s.state(t)
			resp, body := s.tusCreate(t, small, map[string]string{"Upload-Defer-Length": "1"}, bytes.Repeat([]byte("y"), 3000))
			wantCode(t, "creation with 3000 bytes", resp, body, http.StatusRequestEntityTooLarge, "TOO_LARGE")
			s.unchanged(t, "creation with 3000 bytes", before)
		})
		t.Run("within the limit", func(t *testing.T) {
			id := deferred(small, "")
			if resp, body := patch(id, 0, strings.NewReader("hello"), "Upload-Length", "8"); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("first chunk: %d %s", resp.StatusCode, body)
			}
			if resp, body := patch(id, 5, strings.NewReader("!!!")); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("last chunk: %d %s", resp.StatusCode, body)
			}
			if f := s.getFile(t, s.keys.SecretKey, id); f == nil || f.Size != 8 {
				t.Fatalf("file %+v", f)
			}
			s.publicUpload(t, tk.UploadID, []byte("0123456789"), nil) // the ticket was never spent
		})
	})
}

// Under type rules, a tus upload's first bytes are checked before they are
// stored: the first PATCH of an HTML page declared as image/png is refused
// and the upload dropped, long before its last byte.
func TestLimitsTusHeadRefusedEarly(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		images, _ := s.createKey(t, s.keys.SecretKey, map[string]any{"kind": "PUBLIC", "allowedMimeTypes": []string{"image/*"}})
		before := s.state(t)
		id := s.tusUpload(t, images, 100000, tusMeta("filetype", "image/png"))
		resp, body := s.tusPatch(t, id, 0, scriptHTML)
		wantCode(t, "first chunk of HTML", resp, body, http.StatusUnsupportedMediaType, "MIME_NOT_ALLOWED")
		s.unchanged(t, "first chunk of HTML", before)
		if resp, _ := s.tusHead(t, id); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("refused upload still there: %d", resp.StatusCode)
		}
		// A first chunk shorter than the sniffer needs decides nothing yet.
		id = s.tusUpload(t, images, 2000, tusMeta("filetype", "image/png"))
		if resp, body := s.tusPatch(t, id, 0, fakePNG[:8]); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("8 bytes of PNG: %d %s", resp.StatusCode, body)
		}
	})
}

// Parts of a concatenation start anywhere in the file: the type rules apply
// to the assembled file.
func TestLimitsConcatenationTypes(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		images, _ := s.createKey(t, s.keys.SecretKey, map[string]any{"kind": "PUBLIC", "allowedMimeTypes": []string{"image/*"}})
		concat := func(content []byte) (*http.Response, []byte) {
			var locs []string
			for _, part := range [][]byte{content[:300], content[300:]} {
				resp, body := s.tusCreate(t, images, tusHeaders(len(part), "", "Upload-Concat", "partial"), part)
				if resp.StatusCode != http.StatusCreated || resp.Header.Get("Upload-Offset") != fmt.Sprint(len(part)) {
					t.Fatalf("partial: %d %s", resp.StatusCode, body)
				}
				locs = append(locs, resp.Header.Get("Location"))
			}
			return s.tusCreate(t, images, map[string]string{"Upload-Concat": "final;" + strings.Join(locs, " ")}, nil)
		}
		resp, body := concat(fakePNG)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("PNG in two parts: %d %s", resp.StatusCode, body)
		}
		if f := s.getFile(t, s.keys.SecretKey, idOf(resp.Header.Get("Location"))); f == nil || f.Mime != "image/png" {
			t.Fatalf("file %+v", f)
		}
		files := s.state(t).files
		resp, body = concat(scriptHTML)
		wantCode(t, "HTML in two parts", resp, body, http.StatusUnsupportedMediaType, "MIME_NOT_ALLOWED")
		if st := s.state(t); st.files != files {
			t.Fatalf("HTML committed: %+v", st)
		}
	})
}

// The GraphQL limits set in the configuration (SATCHEL_GRAPHQL_*) reach the
// handler.
func TestLimitsGraphQLSettings(t *testing.T) {
	s := newTestServer(t, fileBackend(testdb.SQLite(t)), func(c *config.Config) { c.GraphQL.MaxAliases = 2; c.GraphQL.MaxComplexity = 200 })
	if _, r := s.gql(t, s.keys.SecretKey, `{ a: files(first: 1) { edges { cursor } } b: files(first: 1) { edges { cursor } } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("two aliases: %+v", r.Errors)
	}
	if _, r := s.gql(t, s.keys.SecretKey, `{ a: files(first: 1) { edges { cursor } } b: files(first: 1) { edges { cursor } } c: files(first: 1) { edges { cursor } } }`, nil); r.errCode() != "BAD_USER_INPUT" {
		t.Fatalf("three aliases: %+v", r.Errors)
	}
	if _, r := s.gql(t, s.keys.SecretKey, `{ files(first: 100) { edges { cursor node { id } } } }`, nil); r.errCode() != "BAD_USER_INPUT" {
		t.Fatalf("a page of 100 over a budget of 200: %+v", r.Errors)
	}
}

// Multipart sessions: the assembled file's content is checked under type
// rules, and a session is cheap to begin whatever its size.
func TestLimitsMultipart(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		images, _ := s.createKey(t, s.keys.SecretKey, map[string]any{"kind": "PUBLIC", "allowedMimeTypes": []string{"image/*"}})
		for _, declared := range []string{"", "image/png"} {
			before := s.state(t)
			in := map[string]any{"fileSize": len(scriptHTML)}
			if declared != "" {
				in["mime"] = declared
			}
			_, r := s.gql(t, images, `mutation($in: BeginMultipartUploadInput!) { beginMultipartUpload(input: $in) { fileId uploadParts { first { uploadUrl } } } }`, map[string]any{"in": in})
			var out struct {
				BeginMultipartUpload struct {
					FileID      string
					UploadParts struct{ First struct{ UploadURL string } }
				}
			}
			if len(r.Errors) > 0 || json.Unmarshal(r.Data, &out) != nil {
				t.Fatalf("begin: %s %+v", r.Data, r.Errors)
			}
			b := out.BeginMultipartUpload
			resp, body := s.putPart(t, b.UploadParts.First.UploadURL, scriptHTML)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("PUT: %d %s", resp.StatusCode, body)
			}
			_, r = s.gql(t, images, `mutation($f: ID!, $e: String!) { completeUploadPart(input: {fileId: $f, uploadPartIndex: 0, etag: $e}) { file { id } } }`,
				map[string]any{"f": b.FileID, "e": resp.Header.Get("ETag")})
			if r.errCode() != "MIME_NOT_ALLOWED" {
				t.Fatalf("HTML assembled (declared %q): %s %+v", declared, r.Data, r.Errors)
			}
			s.unchanged(t, "an HTML multipart session", before)
		}
		// A 10 GiB session: one request creates one part, not 2048. On
		// disk, the session's file alone (sparse: parts are written into
		// it where they belong); a part has a file of its own only once it
		// is sent over tus.
		before := s.state(t)
		fileID, count, _ := s.beginMultipart(t, s.keys.PublicKey, 10<<30, "huge.bin")
		after := s.state(t)
		// In the store, the session's file: a sparse file, or an S3
		// multipart upload.
		if count != 2048 || after.parts-before.parts != 1 || after.uploads-before.uploads != 2 || len(after.stored)-len(before.stored) != 1 {
			t.Fatalf("10 GiB session %s: %d parts; part rows +%d, upload rows +%d, items stored +%d (%v)",
				fileID, count, after.parts-before.parts, after.uploads-before.uploads, len(after.stored)-len(before.stored), after.stored)
		}
	})
}
