package e2e

// GraphQL `uploadFile` over the GraphQL multipart request spec
// (https://github.com/jaydenseric/graphql-multipart-request-spec): spec
// requests built by hand, every malformed request answered with a coded 4xx
// (and the server still serving afterwards), and a streaming test that
// proves the bytes reach storage while the client is still sending them.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"satchel/internal/auth"
	"satchel/internal/testdb"
	"satchel/models"
)

// checkStored checks a File against the bytes sent, and the delivery route.
func (s *testServer) checkStored(t testing.TB, f fileInfo, want []byte) {
	t.Helper()
	sum := sha256.Sum256(want)
	if f.SHA256 != hex.EncodeToString(sum[:]) || f.Size != int64(len(want)) {
		t.Fatalf("file %s: sha256 %s size %d, want %x size %d", f.ID, f.SHA256, f.Size, sum, len(want))
	}
	if f.URL != s.cfg.PublicURL+"/files/"+f.ID || f.AccountID != s.keys.AccountID {
		t.Fatalf("file %s: url %q account %q", f.ID, f.URL, f.AccountID)
	}
	resp, data := s.do(t, http.MethodGet, "/files/"+f.ID, "", nil, nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(data, want) {
		t.Fatalf("GET /files/%s: %d, %d bytes (want %d)", f.ID, resp.StatusCode, len(data), len(want))
	}
	if got := resp.Header.Get("ETag"); got != `"`+f.SHA256+`"` {
		t.Fatalf("ETag %q, want the sha256", got)
	}
}

func TestGraphQLUpload(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), pseudoRandom(9, 1000)...)
		cases := []struct {
			name     string
			key      string
			input    map[string]any
			file     formPart
			wantName string
			wantMime string
			wantTags []models.Tag
		}{
			{name: "public key, 3 MiB with tags", key: s.keys.PublicKey,
				input:    map[string]any{"tags": []any{map[string]any{"name": "gql"}, map[string]any{"name": "hidden", "searchable": false}}},
				file:     formFile("0", "report.bin", "application/octet-stream", pseudoRandom(1, 3<<20+17)),
				wantName: "report.bin", wantMime: "application/octet-stream",
				wantTags: []models.Tag{{Name: "gql", Searchable: true}, {Name: "hidden", Searchable: false}}},
			{name: "secret key, input overrides name and type", key: s.keys.SecretKey,
				input:    map[string]any{"fileName": "renamed.txt", "mime": "text/plain; charset=utf-8"},
				file:     formFile("0", "original.bin", "application/octet-stream", []byte("hello, multipart")),
				wantName: "renamed.txt", wantMime: "text/plain; charset=utf-8"},
			{name: "part without Content-Type is sniffed", key: s.keys.PublicKey,
				file:     formFile("0", "pic", "", png),
				wantName: "pic", wantMime: "image/png"},
			{name: "UTF-8 file name from the part", key: s.keys.PublicKey,
				file:     formFile("0", "résumé 2026 ✓.pdf", "application/pdf", []byte("%PDF-1.4 not really")),
				wantName: "résumé 2026 ✓.pdf", wantMime: "application/pdf"},
			{name: "empty file", key: s.keys.PublicKey,
				file:     formFile("0", "empty.txt", "text/plain", nil),
				wantName: "empty.txt", wantMime: "text/plain"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				f := s.uploadFile(t, c.key, c.input, c.file)
				if f.Name != c.wantName || f.Mime != c.wantMime {
					t.Fatalf("name %q mime %q, want %q %q", f.Name, f.Mime, c.wantName, c.wantMime)
				}
				if c.wantTags == nil {
					c.wantTags = []models.Tag{}
				}
				if fmt.Sprint(f.Tags) != fmt.Sprint(c.wantTags) {
					t.Fatalf("tags %v, want %v", f.Tags, c.wantTags)
				}
				s.checkStored(t, f, c.file.body)
				// It is a File like any other.
				code, r := s.gql(t, s.keys.SecretKey, `query($id: ID!) { file(id: $id) { name sha256 } }`, map[string]any{"id": f.ID})
				if code != 200 || !strings.Contains(string(r.Data), f.SHA256) {
					t.Fatalf("file query: %d %s %+v", code, r.Data, r.Errors)
				}
			})
		}

		t.Run("two files in one operation, in order", func(t *testing.T) {
			one, two := pseudoRandom(2, 1<<20), pseudoRandom(3, 2<<20+5)
			ctype, body := formBody(
				formOps(`mutation($a: Upload!, $b: Upload!) {
  a: uploadFile(file: $a) { id name mime size sha256 url accountId }
  b: uploadFile(file: $b, input: {tags: [{name: "second"}]}) { id name mime size sha256 url accountId }
}`, map[string]any{"a": nil, "b": nil}),
				formField("map", `{"1":["variables.a"],"2":["variables.b"]}`),
				formFile("1", "one.bin", "application/x-one", one),
				formFile("2", "two.bin", "application/x-two", two),
			)
			resp, data := s.postForm(t, s.keys.PublicKey, ctype, bytes.NewReader(body))
			var r struct {
				Data   struct{ A, B fileInfo }
				Errors []any
			}
			if resp.StatusCode != 200 || json.Unmarshal(data, &r) != nil || len(r.Errors) > 0 {
				t.Fatalf("%d %s", resp.StatusCode, clip(data))
			}
			if r.Data.A.Name != "one.bin" || r.Data.A.Mime != "application/x-one" || r.Data.B.Name != "two.bin" || r.Data.B.Mime != "application/x-two" {
				t.Fatalf("names and types from the parts: %+v %+v", r.Data.A, r.Data.B)
			}
			s.checkStored(t, r.Data.A, one)
			s.checkStored(t, r.Data.B, two)
		})

		t.Run("chunked request body", func(t *testing.T) {
			want := pseudoRandom(4, 700<<10)
			ctype, body := formBody(formOps(uploadFileQuery, map[string]any{"file": nil}), formField("map", `{"0":["variables.file"]}`),
				formFile("0", "chunked.bin", "application/octet-stream", want))
			// Hiding the length makes the client send it chunked.
			resp, data := s.postForm(t, s.keys.PublicKey, ctype, struct{ io.Reader }{bytes.NewReader(body)})
			var r struct {
				Data struct{ UploadFile fileInfo }
			}
			if resp.StatusCode != 200 || json.Unmarshal(data, &r) != nil || r.Data.UploadFile.ID == "" {
				t.Fatalf("%d %s", resp.StatusCode, clip(data))
			}
			s.checkStored(t, r.Data.UploadFile, want)
		})

		t.Run("application/graphql-response+json when preferred", func(t *testing.T) {
			ctype, body := formBody(formOps(uploadFileQuery, map[string]any{"file": nil}), formField("map", `{"0":["variables.file"]}`),
				formFile("0", "a.txt", "text/plain", []byte("a")))
			resp, data := s.do(t, http.MethodPost, "/graphql", s.keys.PublicKey, bytes.NewReader(body), map[string]string{
				"Content-Type": ctype, "Accept": "application/graphql-response+json, application/json"})
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/graphql-response+json") {
				t.Fatalf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), data)
			}
		})
	})
}

// TestGraphQLUploadBadRequests sends malformed multipart requests: each gets
// a 4xx with a coded GraphQL error (never a 500, never a hang), stores
// nothing, and the server serves normal uploads afterwards.
func TestGraphQLUploadBadRequests(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b, limitedUploads) // 1 MiB per file
		pub, sec := s.keys.PublicKey, s.keys.SecretKey
		smallKey := s.newKey(t, s.keys.AccountID, models.KindPublic, auth.KeyOptions{Name: "small", MaxFileSize: 1000})
		imageKey := s.newKey(t, s.keys.AccountID, models.KindPublic, auth.KeyOptions{Name: "images", MimeTypes: []string{"image/*"}})

		ops := formOps(uploadFileQuery, map[string]any{"file": nil})
		m := formField("map", `{"0":["variables.file"]}`)
		// Files of refused requests are named bad-*; none may be stored.
		file := func(name string, n int) formPart {
			return formFile(name, "bad-"+name+".bin", "application/octet-stream", pseudoRandom(5, n))
		}
		okFile := func(name string, n int) formPart {
			return formFile(name, "ok-"+name+".bin", "application/octet-stream", pseudoRandom(5, n))
		}
		two := formOps(`mutation($a: Upload!, $b: Upload!) { a: uploadFile(file: $a) { id } b: uploadFile(file: $b) { id } }`,
			map[string]any{"a": nil, "b": nil})
		mp := func(parts ...formPart) (map[string]string, string) {
			ctype, body := formBody(parts...)
			return map[string]string{"Content-Type": ctype}, string(body)
		}
		sc := func(name, key string, status int, code string, parts ...formPart) scenario {
			h, body := mp(parts...)
			return scenario{name: name, method: "POST", url: "/graphql", key: key, headers: h, body: body, status: status, code: code}
		}
		withContains := func(a scenario, c ...string) scenario { a.contains = c; return a }
		eleven := `{` + strings.TrimSuffix(strings.Repeat(`"x":["variables.file"],`, 11), ",") + `}`
		for i := 0; i < 11; i++ {
			eleven = strings.Replace(eleven, `"x"`, fmt.Sprintf(`"%d"`, i), 1)
		}
		bigOps := formField("operations", `{"query":"mutation { __typename }","variables":{"pad":"`+strings.Repeat("a", 1<<20)+`"}}`)
		garbageH := map[string]string{"Content-Type": "multipart/form-data; boundary=XyZ"}
		truncated := func() (map[string]string, string) {
			h, body := mp(ops, m, file("0", 2000))
			return h, body[:len(body)-100]
		}
		th, tbody := truncated()
		bigBody := strings.Repeat("z", 14<<20) // over 10 files x 1 MiB + 3 MiB

		runScenarios(t, s, []scenario{
			// Authentication comes first, before the body is read.
			sc("no key", "", 401, "UNAUTHENTICATED", ops, m, file("0", 10)),
			sc("unknown key", "public_"+strings.Repeat("a", 43), 401, "UNAUTHENTICATED", ops, m, file("0", 10)),

			// The envelope.
			{name: "no boundary", method: "POST", url: "/graphql", key: pub, headers: map[string]string{"Content-Type": "multipart/form-data"},
				body: "--x\r\n", status: 400, code: "BAD_USER_INPUT"},
			{name: "not multipart at all", method: "POST", url: "/graphql", key: pub, headers: garbageH,
				body: "this is not multipart", status: 400, code: "BAD_USER_INPUT"},
			{name: "empty body", method: "POST", url: "/graphql", key: pub, headers: garbageH,
				body: "--XyZ--\r\n", status: 400, code: "BAD_USER_INPUT"},
			{name: "truncated body", method: "POST", url: "/graphql", key: pub, headers: th, body: tbody, status: 400, code: "BAD_USER_INPUT"},
			{name: "body over the cap by Content-Length", method: "POST", url: "/graphql", key: pub, headers: garbageH, body: bigBody,
				status: 413, code: "TOO_LARGE"},

			// operations and map.
			withContains(sc("map first", pub, 400, "BAD_USER_INPUT", m, ops, file("0", 10)), `must be \"operations\"`),
			sc("operations not JSON", pub, 400, "BAD_USER_INPUT", formField("operations", "{query"), m, file("0", 10)),
			sc("operations a string", pub, 400, "BAD_USER_INPUT", formField("operations", `"mutation { __typename }"`), m, file("0", 10)),
			withContains(sc("batched operations", pub, 400, "BAD_USER_INPUT",
				formField("operations", `[{"query":"mutation($file: Upload!) { uploadFile(file: $file) { id } }","variables":{"file":null}}]`),
				formField("map", `{"0":["0.variables.file"]}`), file("0", 10)), "batched"),
			sc("operations over 1 MiB", pub, 413, "TOO_LARGE", bigOps, formField("map", `{}`)),
			withContains(sc("no map", pub, 400, "BAD_USER_INPUT", ops, file("0", 10)), `must be \"map\"`),
			sc("map not JSON", pub, 400, "BAD_USER_INPUT", ops, formField("map", `{"0":`), file("0", 10)),
			sc("map an array", pub, 400, "BAD_USER_INPUT", ops, formField("map", `[["variables.file"]]`), file("0", 10)),
			sc("map value not an array", pub, 400, "BAD_USER_INPUT", ops, formField("map", `{"0":"variables.file"}`), file("0", 10)),
			sc("map value empty", pub, 400, "BAD_USER_INPUT", ops, formField("map", `{"0":[]}`), file("0", 10)),
			sc("map names a file twice", pub, 400, "BAD_USER_INPUT", ops, formField("map", `{"0":["variables.file"],"0":["variables.file"]}`), file("0", 10)),
			sc("map trailing garbage", pub, 400, "BAD_USER_INPUT", ops, formField("map", `{"0":["variables.file"]} x`), file("0", 10)),
			withContains(sc("too many files", pub, 400, "BAD_USER_INPUT", ops, formField("map", eleven), file("0", 10)), "too many files"),
			withContains(sc("map path not in the variables", pub, 400, "BAD_USER_INPUT", ops, formField("map", `{"0":["variables.nope"]}`), file("0", 10)),
				"not in the operation's variables"),
			sc("map path without variables.", pub, 400, "BAD_USER_INPUT", ops, formField("map", `{"0":["file"]}`), file("0", 10)),
			sc("map path through a string", pub, 400, "BAD_USER_INPUT", formOps(uploadFileQuery, map[string]any{"file": nil, "input": map[string]any{"fileName": "x"}}),
				formField("map", `{"0":["variables.input.fileName.0"]}`), file("0", 10)),
			withContains(sc("map path at a non-null value", pub, 400, "BAD_USER_INPUT", formOps(uploadFileQuery, map[string]any{"file": "not null"}), m, file("0", 10)),
				"null placeholder"),
			sc("two map paths at the same place", pub, 400, "BAD_USER_INPUT", ops, formField("map", `{"0":["variables.file"],"1":["variables.file"]}`),
				file("0", 10), file("1", 10)),
			sc("map path at a String variable", pub, 400, "GRAPHQL_VALIDATION_FAILED",
				formOps(uploadFileQuery, map[string]any{"file": nil, "input": map[string]any{"fileName": nil}}),
				formField("map", `{"0":["variables.file"],"1":["variables.input.fileName"]}`), file("0", 10), file("1", 10)),

			// The file parts.
			withContains(sc("mapped file never comes", pub, 400, "BAD_USER_INPUT", two, formField("map", `{"0":["variables.a"],"1":["variables.b"]}`), file("0", 500)),
				"no such part"),
			sc("no file part at all", pub, 400, "BAD_USER_INPUT", ops, m),
			withContains(sc("part not in the map", pub, 400, "BAD_USER_INPUT", ops, m, file("7", 10)), "not a file the map names"),
			sc("extra part after the file", pub, 400, "BAD_USER_INPUT", ops, m, file("0", 300), file("9", 10)),
			withContains(sc("duplicate part", pub, 400, "BAD_USER_INPUT", ops, m, file("0", 300), file("0", 10)), "more than once"),
			sc("file over the server limit", pub, 413, "TOO_LARGE", ops, m, file("0", 1<<20+1)),
			sc("file over the key's limit", smallKey, 413, "TOO_LARGE", ops, m, file("0", 1001)),

			// Operation errors are GraphQL errors; the unread file is drained.
			sc("MIME type the key refuses", imageKey, 200, "MIME_NOT_ALLOWED", ops, m, file("0", 600<<10)),
			sc("bad file name in the input", pub, 200, "BAD_USER_INPUT",
				formOps(uploadFileQuery, map[string]any{"file": nil, "input": map[string]any{"fileName": "a/b"}}), m, file("0", 600<<10)),
			withContains(sc("one file at two paths", pub, 200, "BAD_USER_INPUT", two, formField("map", `{"0":["variables.a","variables.b"]}`), okFile("0", 100)),
				"more than one path"),
			withContains(sc("files read out of order", pub, 200, "BAD_USER_INPUT",
				formOps(`mutation($a: Upload!, $b: Upload!) { b: uploadFile(file: $b) { id } a: uploadFile(file: $a) { id } }`, map[string]any{"a": nil, "b": nil}),
				formField("map", `{"0":["variables.a"],"1":["variables.b"]}`), okFile("0", 100), okFile("1", 100)),
				"order"),
			withContains(sc("operation that reads no file", pub, 200, "",
				formOps(`mutation { __typename }`, map[string]any{"file": nil}), m, file("0", 600<<10)),
				`{"data":{"__typename":"Mutation"}}`),
		})

		// A file at exactly a limit is fine.
		s.uploadFile(t, smallKey, nil, formFile("0", "exact.bin", "application/octet-stream", pseudoRandom(6, 1000)))
		s.uploadFile(t, pub, nil, formFile("0", "exact-server.bin", "application/octet-stream", pseudoRandom(7, 1<<20)))

		// Refused requests stored nothing (their files are all named bad-*).
		code, r := s.gql(t, sec, `{ files(first: 1000) { edges { node { name } } } }`, nil)
		if code != 200 || len(r.Errors) > 0 {
			t.Fatalf("files: %d %+v", code, r.Errors)
		}
		if strings.Contains(string(r.Data), `"name":"bad-`) {
			t.Errorf("a refused request stored a file: %s", r.Data)
		}
		s.stillServing(t)
		want := []byte("still uploading over GraphQL")
		s.checkStored(t, s.uploadFile(t, pub, nil, formFile("0", "after.txt", "text/plain", want)), want)
	})
}

// TestGraphQLUploadRefusedBeforeBody checks that a multipart request
// without a key is refused before its body is read: the client never
// finishes sending it, and still gets its 401.
func TestGraphQLUploadRefusedBeforeBody(t *testing.T) {
	s := newTestServer(t, fileBackend(testdb.SQLite(t)))
	// A raw connection: HTTP clients wait for their body to be sent.
	conn, err := net.Dial("tcp", s.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	ops := `{"query":"mutation($file: Upload!) { uploadFile(file: $file) { id } }","variables":{"file":null}}`
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: multipart/form-data; boundary=b0undary\r\nContent-Length: 100000000\r\n\r\n"+
		"--b0undary\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n%s\r\n", s.Listener.Addr(), ops)
	// ... and nothing more of the 100 MB announced.
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer before the body ended: %v", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 401 || payloadCode(t, data) != "UNAUTHENTICATED" {
		t.Fatalf("%d %s", resp.StatusCode, data)
	}
}

// TestGraphQLUploadStreams proves that uploadFile streams: the client sends
// a quarter of a 64 MiB file and then holds back the rest until the
// server's storage already holds a good part of the file. A transport that
// buffered the body (in memory or in a temporary file, as gqlgen's own
// MultipartForm does) before running the operation would store nothing
// until the body ended, and the test would fail. It also checks that the
// server did not answer before the body ended.
func TestGraphQLUploadStreams(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		const size = 64 << 20
		const first = 16 << 20
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()

		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		proceed := make(chan struct{})
		sent := make(chan [32]byte, 1)
		go func() {
			h := sha256.New()
			err := func() error {
				w, _ := mw.CreateFormField("operations")
				w.Write([]byte(`{"query":"mutation($file: Upload!) { uploadFile(file: $file) { id size sha256 } }","variables":{"file":null}}`))
				w, _ = mw.CreateFormField("map")
				w.Write([]byte(`{"0":["variables.file"]}`))
				fw, err := mw.CreateFormFile("0", "big.bin")
				if err != nil {
					return err
				}
				rnd := rand.NewChaCha8([32]byte{64})
				if _, err := io.CopyN(io.MultiWriter(fw, h), rnd, first); err != nil {
					return err
				}
				select {
				case <-proceed:
				case <-ctx.Done():
					return ctx.Err()
				}
				if _, err := io.CopyN(io.MultiWriter(fw, h), rnd, size-first); err != nil {
					return err
				}
				return mw.Close()
			}()
			var sum [32]byte
			copy(sum[:], h.Sum(nil))
			sent <- sum
			pw.CloseWithError(err)
		}()

		type result struct {
			status int
			body   []byte
			err    error
		}
		done := make(chan result, 1)
		go func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/graphql", pr)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			req.Header.Set("Authorization", "Bearer "+s.keys.PublicKey)
			resp, err := s.Client().Do(req)
			if err != nil {
				done <- result{err: err}
				return
			}
			defer resp.Body.Close()
			data, err := io.ReadAll(resp.Body)
			done <- result{resp.StatusCode, data, err}
		}()

		// While the client holds back 48 MiB, storage must already hold
		// at least 8 MiB of the file (on S3, as parts of its multipart
		// upload: a process's buffers are not storage).
		stored := func() int64 { return s.largestStored(t) }
		deadline := time.Now().Add(30 * time.Second)
		for stored() < 8<<20 {
			select {
			case r := <-done:
				cancel()
				t.Fatalf("the server answered before the body ended: %d %s %v", r.status, clip(r.body), r.err)
			default:
			}
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("storage holds %d bytes after the client sent %d of %d and waits: the upload is not streamed", stored(), first, size)
			}
			time.Sleep(20 * time.Millisecond)
		}
		close(proceed)
		r := <-done
		sum := <-sent
		if r.err != nil || r.status != 200 {
			t.Fatalf("upload: %d %s %v", r.status, clip(r.body), r.err)
		}
		var out struct {
			Data struct {
				UploadFile struct {
					ID     string
					Size   int64
					SHA256 string
				}
			}
		}
		if err := json.Unmarshal(r.body, &out); err != nil || out.Data.UploadFile.Size != size || out.Data.UploadFile.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("stored %s, want size %d sha256 %x", r.body, size, sum)
		}
		resp, err := s.Client().Get(s.URL + "/files/" + out.Data.UploadFile.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		h := sha256.New()
		if n, err := io.Copy(h, resp.Body); err != nil || n != size || !bytes.Equal(h.Sum(nil), sum[:]) {
			t.Fatalf("download: %d bytes, err %v, sha256 %x", n, err, h.Sum(nil))
		}
	})
}
