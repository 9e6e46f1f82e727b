package e2e

// tus 1.0.0 to the letter, where Satchel goes beyond tusd (issue 12): the
// endpoint without its slash, every metadata pair back on HEAD, bounded;
// Tus-Extension and Tus-Checksum-Algorithm; Tus-Version on 412;
// Tus-Resumable on every answer; 415 for a PATCH of another type; the
// checksum extension. On SQLite and on PostgreSQL.

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bdragon300/tusgo"
	"github.com/tus/tusd/v2/pkg/handler"

	"satchel/internal/ids"
)

func sha256sum(s string) []byte { sum := sha256.Sum256([]byte(s)); return sum[:] }

// notRedirected fails a scenario whose request was redirected.
func notRedirected(path string) func(t *testing.T, resp *http.Response, body []byte) {
	return func(t *testing.T, resp *http.Response, body []byte) {
		t.Helper()
		if resp.Request.URL.Path != path {
			t.Fatalf("answered at %s, not %s: redirected", resp.Request.URL.Path, path)
		}
	}
}

func TestTusSpec(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		pub, sec := s.keys.PublicKey, s.keys.SecretKey
		base := s.cfg.PublicURL + "/uploads/"
		create := with(tusBase, "Upload-Length", "8")
		withBody := func(h map[string]string, kv ...string) map[string]string {
			return with(h, append([]string{"Content-Type", "application/offset+octet-stream"}, kv...)...)
		}
		offsetIs := func(id string, want int) func(t *testing.T, resp *http.Response, body []byte) {
			return func(t *testing.T, _ *http.Response, _ []byte) {
				t.Helper()
				r, _ := s.tusHead(t, id)
				if r.StatusCode != http.StatusOK || r.Header.Get("Upload-Offset") != strconv.Itoa(want) {
					t.Fatalf("HEAD: %d, Upload-Offset %q; want %d", r.StatusCode, r.Header.Get("Upload-Offset"), want)
				}
			}
		}
		// noFile: the upload did not become a File.
		noFile := func(id string) func(t *testing.T, resp *http.Response, body []byte) {
			return func(t *testing.T, _ *http.Response, _ []byte) {
				t.Helper()
				_, r := s.gql(t, sec, `query($id: ID!) { file(id: $id) { id } }`, map[string]any{"id": id})
				if string(r.Data) != `{"file":null}` {
					t.Fatalf("file(%s) = %s, want null", id, r.Data)
				}
				if r, _ := s.do(t, http.MethodGet, "/files/"+id, "", nil, nil); r.StatusCode != http.StatusNotFound {
					t.Fatalf("GET /files/%s: %d, want 404", id, r.StatusCode)
				}
			}
		}
		// isFile: the upload is a File of data, with its SHA-256.
		isFile := func(id string, data []byte) func(t *testing.T, resp *http.Response, body []byte) {
			return func(t *testing.T, resp *http.Response, _ []byte) {
				t.Helper()
				if resp.Header.Get("X-File-Url") != s.cfg.PublicURL+"/files/"+id {
					t.Errorf("X-File-Url %q", resp.Header.Get("X-File-Url"))
				}
				if sum, size := s.fileSHA(t, id); sum != shaHex(data) || size != int64(len(data)) {
					t.Fatalf("file %s: sha256 %s, %d bytes; want %s, %d", id, sum, size, shaHex(data), len(data))
				}
				if r, body := s.do(t, http.MethodGet, "/files/"+id, "", nil, nil); r.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
					t.Fatalf("GET /files/%s: %d %q", id, r.StatusCode, body)
				}
			}
		}
		created := func(t *testing.T, resp *http.Response, _ []byte) {
			t.Helper()
			loc := resp.Header.Get("Location")
			if id, ok := strings.CutPrefix(loc, base); !ok || !ids.Valid(id) {
				t.Fatalf("Location %q is not %s{id}", loc, base)
			}
		}

		// Every metadata pair comes back, Uppy's and anyone's.
		sent := map[string]string{
			"filename": "photo 1.jpg", "filetype": "image/jpeg", "tags": `["album:2024",{"name":"private","searchable":false}]`,
			"name": "photo 1.jpg", "type": "image/jpeg", "relativePath": "holiday/2024/photo 1.jpg",
			"lastModified": "1717171717000", "café": "crème brûlée, ☕", "flag": "",
		}
		var sentHeader []string
		for k, v := range sent {
			if v == "" {
				sentHeader = append(sentHeader, k)
			} else {
				sentHeader = append(sentHeader, k+" "+base64.StdEncoding.EncodeToString([]byte(v)))
			}
		}
		withMeta := s.tusUpload(t, pub, 8, strings.Join(sentHeader, ","))

		pairs := func(n int) string {
			var ps []string
			for i := range n {
				ps = append(ps, fmt.Sprintf("key%d %s", i, b64("v")))
			}
			return strings.Join(ps, ",")
		}
		longMeta := func(n int) string { // one pair, n bytes
			v := 4 * ((n - 2) / 4)
			return strings.Repeat("k", n-1-v) + " " + b64(strings.Repeat("v", v/4*3))
		}

		pending := s.tusUpload(t, pub, 10, "")
		finished := s.tusUpload(t, pub, 4, "")
		if r, body := s.tusPatch(t, finished, 0, []byte("done")); r.StatusCode != http.StatusNoContent {
			t.Fatalf("finish: %d %s", r.StatusCode, body)
		}
		sum := tusChecksum("sha256", []byte("abcd"), false)

		scenarios := []scenario{
			// The endpoint answers without its slash, no redirect.
			{name: "OPTIONS /uploads", method: "OPTIONS", url: "/uploads", status: 200,
				headersWant: map[string]string{
					"Tus-Version":            "1.0.0",
					"Tus-Extension":          "creation,creation-with-upload,termination,concatenation,creation-defer-length,checksum,expiration",
					"Tus-Checksum-Algorithm": "md5,sha1,sha256",
				},
				after: notRedirected("/uploads")},
			{name: "OPTIONS /uploads/", method: "OPTIONS", url: "/uploads/", status: 200,
				headersWant: map[string]string{
					"Tus-Extension":          "creation,creation-with-upload,termination,concatenation,creation-defer-length,checksum,expiration",
					"Tus-Checksum-Algorithm": "md5,sha1,sha256",
				}},
			{name: "OPTIONS on an upload", method: "OPTIONS", url: "/uploads/" + pending, status: 200,
				headersWant: map[string]string{"Tus-Checksum-Algorithm": "md5,sha1,sha256"}},
			{name: "POST /uploads", method: "POST", url: "/uploads", key: pub, headers: create, status: 201,
				after: func(t *testing.T, resp *http.Response, body []byte) {
					notRedirected("/uploads")(t, resp, body)
					created(t, resp, body)
				}},
			{name: "POST /uploads with its first bytes", method: "POST", url: "/uploads", key: pub, headers: withBody(with(tusBase, "Upload-Length", "4")), body: "abcd",
				status: 201, headersWant: map[string]string{"Upload-Offset": "4"},
				after: func(t *testing.T, resp *http.Response, body []byte) {
					notRedirected("/uploads")(t, resp, body)
					created(t, resp, body)
					isFile(idOf(resp.Header.Get("Location")), []byte("abcd"))(t, resp, body)
				}},
			{name: "GET /uploads", method: "GET", url: "/uploads", key: pub, status: 405, code: "METHOD_NOT_ALLOWED"},
			{name: "/uploadsx is not the endpoint", method: "POST", url: "/uploadsx", key: pub, headers: create, status: 404, code: "NOT_FOUND"},

			// Every Upload-Metadata pair comes back on HEAD, within bounds.
			{name: "HEAD returns every metadata pair", method: "HEAD", url: "/uploads/" + withMeta, headers: tusBase, status: 200,
				after: func(t *testing.T, resp *http.Response, _ []byte) {
					got := handler.ParseMetadataHeader(resp.Header.Get("Upload-Metadata"))
					if !maps.Equal(got, sent) {
						t.Fatalf("Upload-Metadata on HEAD = %v, want %v", got, sent)
					}
				}},
			{name: "metadata of 64 pairs", method: "POST", url: "/uploads/", key: pub, headers: with(create, "Upload-Metadata", pairs(64)), status: 201},
			{name: "metadata of 65 pairs", method: "POST", url: "/uploads/", key: pub, headers: with(create, "Upload-Metadata", pairs(65)),
				status: 400, code: "BAD_USER_INPUT"},
			{name: "metadata of 16 KiB", method: "POST", url: "/uploads/", key: pub, headers: with(create, "Upload-Metadata", longMeta(16<<10)), status: 201},
			{name: "metadata over 16 KiB", method: "POST", url: "/uploads/", key: pub, headers: with(create, "Upload-Metadata", longMeta(16<<10+1)),
				status: 400, code: "BAD_USER_INPUT"},
			{name: "metadata key over 64 bytes", method: "POST", url: "/uploads/", key: pub, headers: with(create, "Upload-Metadata", strings.Repeat("k", 65)+" "+b64("v")),
				status: 400, code: "BAD_USER_INPUT"},
			{name: "metadata filename still validated", method: "POST", url: "/uploads/", key: pub, headers: with(create, "Upload-Metadata", "name "+b64("x")+",filename "+b64("../x")),
				status: 400, code: "BAD_USER_INPUT"},
			{name: "metadata uploadId still validated", method: "POST", url: "/uploads/", headers: with(create, "Upload-Metadata", "uploadId "+b64("nope")),
				status: 404, code: "UPLOAD_ID_UNKNOWN"},

			// 412 says which version is served; every refusal is a tus answer.
			{name: "PATCH without Tus-Resumable", method: "PATCH", url: "/uploads/" + pending, body: "ab",
				headers: map[string]string{"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
				status:  412, code: "UNSUPPORTED_VERSION", headersWant: map[string]string{"Tus-Version": "1.0.0"}},
			{name: "POST with another Tus-Resumable", method: "POST", url: "/uploads", key: pub, headers: with(create, "Tus-Resumable", "0.2.2"),
				status: 412, code: "UNSUPPORTED_VERSION", headersWant: map[string]string{"Tus-Version": "1.0.0"}},
			{name: "DELETE without Tus-Resumable", method: "DELETE", url: "/uploads/" + pending,
				status: 412, code: "UNSUPPORTED_VERSION", headersWant: map[string]string{"Tus-Version": "1.0.0"}},
			{name: "401 from the auth in front", method: "POST", url: "/uploads/", key: "public_" + ids.Random(32), headers: create,
				status: 401, code: "UNAUTHENTICATED"},
			{name: "401 without a key", method: "POST", url: "/uploads", headers: create, status: 401, code: "UNAUTHENTICATED"},
			{name: "403 from the auth in front", method: "POST", url: "/uploads/", key: sec, headers: with(create, "Origin", "https://evil.example"),
				status: 403, code: "FORBIDDEN"},
			{name: "404 from tusd", method: "HEAD", url: "/uploads/" + ids.New(), headers: tusBase, status: 404, code: "NOT_FOUND"},
			{name: "404 from Satchel", method: "PATCH", url: "/uploads/not-an-id", headers: tusPatchHeaders(0), body: "ab", status: 404, code: "NOT_FOUND"},
			{name: "409", method: "PATCH", url: "/uploads/" + pending, headers: tusPatchHeaders(3), body: "ab", status: 409, code: "OFFSET_MISMATCH"},
			{name: "413", method: "PATCH", url: "/uploads/" + pending, headers: tusPatchHeaders(0), body: "0123456789ab", status: 413, code: "TOO_LARGE"},
			{name: "415 for a JSON PATCH", method: "PATCH", url: "/uploads/" + pending, headers: tusPatchHeaders(0, "Content-Type", "application/json"), body: `{"a":1}`,
				status: 415, code: "UNSUPPORTED_MEDIA_TYPE"},
			{name: "415 for a PATCH without Content-Type", method: "PATCH", url: "/uploads/" + pending, headers: with(tusBase, "Upload-Offset", "0"), body: "ab",
				status: 415, code: "UNSUPPORTED_MEDIA_TYPE"},
			{name: "204 on a finished upload", method: "PATCH", url: "/uploads/" + finished, headers: tusPatchHeaders(4), status: 204},

			// Malformed Upload-Checksum: refused before any byte is read.
			{name: "checksum of an unknown algorithm", method: "PATCH", url: "/uploads/" + pending, headers: tusPatchHeaders(0, "Upload-Checksum", "crc32 AAAAAA=="), body: "abcd",
				status: 400, code: "BAD_USER_INPUT"},
			{name: "checksum algorithm in capitals", method: "PATCH", url: "/uploads/" + pending, headers: tusPatchHeaders(0, "Upload-Checksum", strings.ToUpper(sum[:6])+sum[6:]), body: "abcd",
				status: 400, code: "BAD_USER_INPUT"},
			{name: "checksum not base64", method: "PATCH", url: "/uploads/" + pending, headers: tusPatchHeaders(0, "Upload-Checksum", "sha256 !!not-base64!!"), body: "abcd",
				status: 400, code: "BAD_USER_INPUT"},
			{name: "checksum one byte short", method: "PATCH", url: "/uploads/" + pending, headers: tusPatchHeaders(0, "Upload-Checksum", "sha256 "+base64.StdEncoding.EncodeToString(sha256sum("abcd")[:31])), body: "abcd",
				status: 400, code: "BAD_USER_INPUT"},
			{name: "checksum sha256 with a sha1 digest", method: "PATCH", url: "/uploads/" + pending, headers: tusPatchHeaders(0, "Upload-Checksum", "sha256"+strings.TrimPrefix(tusChecksum("sha1", []byte("abcd"), false), "sha1")), body: "abcd",
				status: 400, code: "BAD_USER_INPUT"},
			{name: "checksum without digest", method: "PATCH", url: "/uploads/" + pending, headers: tusPatchHeaders(0, "Upload-Checksum", "sha256"), body: "abcd",
				status: 400, code: "BAD_USER_INPUT"},
			{name: "checksum of three parts", method: "PATCH", url: "/uploads/" + pending, headers: tusPatchHeaders(0, "Upload-Checksum", sum+" x"), body: "abcd",
				status: 400, code: "BAD_USER_INPUT"},
			{name: "checksum malformed on creation", method: "POST", url: "/uploads/", key: pub, headers: withBody(create, "Upload-Checksum", "sha256 x"), body: "abcd",
				status: 400, code: "BAD_USER_INPUT"},
			{name: "nothing written by the malformed checksums", method: "HEAD", url: "/uploads/" + pending, headers: tusBase, status: 200,
				headersWant: map[string]string{"Upload-Offset": "0"}},

			// Creation with upload, with a checksum.
			{name: "creation with upload, good checksum", method: "POST", url: "/uploads/", key: pub, body: "abcdefgh",
				headers: withBody(create, "Upload-Checksum", tusChecksum("sha1", []byte("abcdefgh"), false)),
				status:  201, headersWant: map[string]string{"Upload-Offset": "8"},
				after: func(t *testing.T, resp *http.Response, body []byte) {
					isFile(idOf(resp.Header.Get("Location")), []byte("abcdefgh"))(t, resp, body)
				}},
			{name: "creation with upload, bad checksum", method: "POST", url: "/uploads/", key: pub, body: "abcdefgh",
				headers: withBody(create, "Upload-Checksum", tusChecksum("md5", []byte("abcdefgh"), true)),
				status:  460, code: "CHECKSUM_MISMATCH",
				after: func(t *testing.T, resp *http.Response, body []byte) {
					// The upload exists, empty; its bytes may be sent again.
					created(t, resp, body)
					id := idOf(resp.Header.Get("Location"))
					offsetIs(id, 0)(t, resp, body)
					noFile(id)(t, resp, body)
					r, rb := s.tusPatch(t, id, 0, []byte("abcdefgh"), "Upload-Checksum", tusChecksum("md5", []byte("abcdefgh"), false))
					if r.StatusCode != http.StatusNoContent {
						t.Fatalf("PATCH again: %d %s", r.StatusCode, rb)
					}
					isFile(id, []byte("abcdefgh"))(t, r, rb)
				}},
		}

		// Each algorithm: a bad chunk is refused whole, a good one taken;
		// a bad completing chunk makes no File; the good one does.
		for _, alg := range []string{"md5", "sha1", "sha256"} {
			id := s.tusUpload(t, pub, 8, tusMeta("filename", alg+".txt"))
			data := []byte("abcd" + alg[:3] + "!")
			first, last := data[:4], data[4:]
			scenarios = append(scenarios, []scenario{
				{name: alg + " mismatch", method: "PATCH", url: "/uploads/" + id, headers: tusPatchHeaders(0, "Upload-Checksum", tusChecksum(alg, first, true)), body: string(first),
					status: 460, code: "CHECKSUM_MISMATCH", after: offsetIs(id, 0)},
				{name: alg + " match", method: "PATCH", url: "/uploads/" + id, headers: tusPatchHeaders(0, "Upload-Checksum", tusChecksum(alg, first, false)), body: string(first),
					status: 204, headersWant: map[string]string{"Upload-Offset": "4"}, after: offsetIs(id, 4)},
				{name: alg + " mismatch completing", method: "PATCH", url: "/uploads/" + id, headers: tusPatchHeaders(4, "Upload-Checksum", tusChecksum(alg, last, true)), body: string(last),
					status: 460, code: "CHECKSUM_MISMATCH",
					after: func(t *testing.T, resp *http.Response, body []byte) {
						if resp.Header.Get("X-File-Url") != "" {
							t.Error("a refused chunk answered X-File-Url")
						}
						offsetIs(id, 4)(t, resp, body)
						noFile(id)(t, resp, body)
					}},
				{name: alg + " match completing", method: "PATCH", url: "/uploads/" + id, headers: tusPatchHeaders(4, "Upload-Checksum", tusChecksum(alg, last, false)), body: string(last),
					status: 204, headersWant: map[string]string{"Upload-Offset": "8"}, after: isFile(id, data)},
			}...)
		}

		// A deferred length declared by a PATCH whose bytes were refused
		// is declared again, identically, by the PATCH that resends them.
		deferred := idOf(func() string {
			r, body := s.tusCreate(t, pub, map[string]string{"Upload-Defer-Length": "1"}, nil)
			if r.StatusCode != http.StatusCreated {
				t.Fatalf("create deferred: %d %s", r.StatusCode, body)
			}
			return r.Header.Get("Location")
		}())
		scenarios = append(scenarios, []scenario{
			{name: "deferred length declared, bytes refused", method: "PATCH", url: "/uploads/" + deferred, body: "deferred",
				headers: tusPatchHeaders(0, "Upload-Length", "8", "Upload-Checksum", tusChecksum("sha256", []byte("deferred"), true)),
				status:  460, code: "CHECKSUM_MISMATCH", after: offsetIs(deferred, 0)},
			{name: "deferred length declared again, bytes taken", method: "PATCH", url: "/uploads/" + deferred, body: "deferred",
				headers: tusPatchHeaders(0, "Upload-Length", "8", "Upload-Checksum", tusChecksum("sha256", []byte("deferred"), false)),
				status:  204, after: isFile(deferred, []byte("deferred"))},
			{name: "a different length is still refused", method: "PATCH", url: "/uploads/" + pending, body: "ab",
				headers: tusPatchHeaders(0, "Upload-Length", "9"), status: 400, code: "BAD_USER_INPUT"},
		}...)

		// Every answer of the endpoint carries Tus-Resumable.
		for i, sc := range scenarios {
			if strings.HasPrefix(sc.url, "/uploads/") || sc.url == "/uploads" {
				scenarios[i].headersWant = with(sc.headersWant, "Tus-Resumable", tusVersion)
			}
		}
		runScenarios(t, s, scenarios)
	})
}

// A PATCH with a checksum whose body is cut short keeps nothing: its bytes
// cannot be verified. Without a checksum, what arrived is kept (tus's
// usual resumption), which shows that the bytes did reach the server.
func TestTusChecksumCutShort(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		const size, sent = 1 << 20, 300 << 10
		data := make([]byte, size)
		rand.Read(data)
		for _, checked := range []bool{false, true} {
			t.Run(fmt.Sprintf("checksum=%v", checked), func(t *testing.T) {
				id := s.tusUpload(t, s.keys.PublicKey, size, "")
				pr, pw := io.Pipe()
				var checksum []string
				if checked {
					checksum = []string{"Upload-Checksum", tusChecksum("sha256", data, false)}
				}
				req := s.tusPatchRequest(t, id, 0, pr, size, checksum...)
				go func() {
					pw.Write(data[:sent])
					// Let the server take what was sent, then drop the link.
					time.Sleep(300 * time.Millisecond)
					pw.CloseWithError(errCut)
				}()
				hc := &http.Client{Transport: &http.Transport{}}
				defer hc.CloseIdleConnections()
				if resp, err := hc.Do(req); err == nil {
					resp.Body.Close()
					t.Fatalf("cut PATCH answered %d", resp.StatusCode)
				}
				// HEAD waits for the upload's lock, held until the PATCH is done.
				var offset string
				waitFor(t, 10*time.Second, func() bool {
					r, _ := s.tusHead(t, id)
					offset = r.Header.Get("Upload-Offset")
					return r.StatusCode == http.StatusOK
				})
				switch {
				case checked && offset != "0":
					t.Fatalf("offset %s after a cut PATCH with a checksum, want 0", offset)
				case !checked && offset != strconv.Itoa(sent):
					t.Fatalf("offset %s after a cut PATCH without a checksum, want %d", offset, sent)
				}
				// The upload goes on from there, and its digest is exact.
				r, body := s.tusPatch(t, id, atoi(t, offset), data[atoi(t, offset):])
				if r.StatusCode != http.StatusNoContent {
					t.Fatalf("resume: %d %s", r.StatusCode, body)
				}
				if sum, n := s.fileSHA(t, id); sum != shaHex(data) || n != size {
					t.Fatalf("file: %s %d", sum, n)
				}
			})
		}
	})
}

func atoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// corruptTransport flips one byte in the body of the nth PATCH, once, like
// a faulty link; it keeps the body of the 460 that follows.
type corruptTransport struct {
	base    http.RoundTripper
	nth     int32
	patches atomic.Int32
	mu      sync.Mutex
	refusal []byte
}

func (c *corruptTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPatch || c.patches.Add(1) != c.nth {
		return c.base.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	body[len(body)/2] ^= 0xff
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := c.base.RoundTrip(r)
	if err != nil || resp.StatusCode != 460 {
		return resp, err
	}
	// tusgo v0.1.2 panics on an error body of 1 to 255 bytes (TusError.
	// WithResponse reads it with io.ReadFull into 256 bytes): keep the
	// body here, for the test, and hand tusgo an empty one.
	c.mu.Lock()
	c.refusal, err = io.ReadAll(resp.Body)
	c.mu.Unlock()
	resp.Body.Close()
	resp.Body = http.NoBody
	return resp, err
}

// A real tus client uploads with sha256 checksums to the slash-less
// endpoint; a chunk corrupted on the way is refused with 460 and nothing
// of it kept; the client sends it again and the file is exact.
func TestTusE2EChecksum(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		const size, chunk = 10 << 20, 4 << 20
		data := make([]byte, size)
		rand.Read(data)

		ct := &corruptTransport{base: http.DefaultTransport, nth: 2}
		cl := s.tusgoClient("/uploads", ct, s.keys.PublicKey)
		up := tusgo.Upload{}
		if _, err := cl.CreateUpload(&up, size, false, map[string]string{"filename": "checked.bin", "relativePath": "a/b/checked.bin"}); err != nil {
			t.Fatalf("create: %v", err)
		}
		if !strings.HasPrefix(up.Location, s.cfg.PublicURL+"/uploads/") {
			t.Fatalf("Location %q", up.Location)
		}
		stream := tusgo.NewUploadStream(cl, &up).WithChecksumAlgorithm("sha256")
		stream.ChunkSize = chunk
		src := bytes.NewReader(data)
		_, err := io.Copy(stream, src)
		if !errors.Is(err, tusgo.ErrChecksumMismatch) {
			t.Fatalf("corrupted chunk: %v, want a checksum mismatch", err)
		}
		if code := errorCode(t, ct.refusal); code != "CHECKSUM_MISMATCH" {
			t.Fatalf("460 with code %s", code)
		}
		id := idOf(up.Location)
		r, _ := s.tusHead(t, id)
		if got := r.Header.Get("Upload-Offset"); got != strconv.Itoa(chunk) || stream.Tell() != chunk {
			t.Fatalf("after the refused chunk: server offset %s, client %d; want %d", got, stream.Tell(), chunk)
		}
		// The stream keeps the refused chunk and sends it again first.
		if _, err := io.Copy(stream, src); err != nil {
			t.Fatalf("resume: %v", err)
		}
		if sum, n := s.fileSHA(t, id); sum != shaHex(data) || n != size {
			t.Fatalf("file: sha256 %s, %d bytes; want %s", sum, n, shaHex(data))
		}
		resp, body := s.do(t, http.MethodGet, "/files/"+id, "", nil, nil)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
			t.Fatalf("download: %d, identical=%v", resp.StatusCode, bytes.Equal(body, data))
		}
	})
}
