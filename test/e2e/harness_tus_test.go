package e2e

// The tests' one tus client: creation (optionally with the first bytes),
// PATCH, HEAD and DELETE requests as tus 1.0.0 words them, against any Satchel a
// client reaches (the in-process server or a child process), and the real
// tus client tusgo for the end-to-end runs. An upload is named by its ID,
// the last segment of its URL (the file's ID once it completes).

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/bdragon300/tusgo"

	"satchel/internal/ids"
)

const tusVersion = "1.0.0"

// tusBase is the header every tus request but OPTIONS carries.
var tusBase = map[string]string{"Tus-Resumable": tusVersion}

// tusMeta encodes key/value pairs as an Upload-Metadata header.
func tusMeta(kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, kv[i]+" "+base64.StdEncoding.EncodeToString([]byte(kv[i+1])))
	}
	return strings.Join(parts, ",")
}

// tusHeaders are a creation's Upload-Length, its Upload-Metadata meta when
// not "", and the headers kv.
func tusHeaders(length int, meta string, kv ...string) map[string]string {
	h := with(map[string]string{"Upload-Length": strconv.Itoa(length)}, kv...)
	if meta != "" {
		h["Upload-Metadata"] = meta
	}
	return h
}

// tusPatchHeaders are a PATCH's headers at offset, then the headers kv
// (which may replace them).
func tusPatchHeaders(offset int, kv ...string) map[string]string {
	return with(tusBase, append([]string{"Upload-Offset", strconv.Itoa(offset), "Content-Type", "application/offset+octet-stream"}, kv...)...)
}

// idOf is the upload (or file) ID at the end of its URL.
func idOf(loc string) string { return loc[strings.LastIndex(loc, "/")+1:] }

// tusCreate sends a creation request (POST /uploads/) with the bearer key
// when set, Tus-Resumable and the headers; a non-nil body goes with it as
// the upload's first bytes (creation with upload).
func (c *client) tusCreate(t testing.TB, key string, headers map[string]string, body []byte) (*http.Response, []byte) {
	t.Helper()
	h := with(tusBase)
	for k, v := range headers {
		h[k] = v
	}
	if body != nil {
		h["Content-Type"] = "application/offset+octet-stream"
	}
	return c.do(t, http.MethodPost, "/uploads/", key, bytes.NewReader(body), h)
}

// tusUpload creates an upload of length bytes with the Upload-Metadata meta
// (none when "") and returns its ID: anything but 201 with the upload's
// URL as Location fails t.
func (c *client) tusUpload(t testing.TB, key string, length int, meta string) string {
	t.Helper()
	resp, data := c.tusCreate(t, key, tusHeaders(length, meta), nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("tus creation: %d %s", resp.StatusCode, data)
	}
	loc := resp.Header.Get("Location")
	id := idOf(loc)
	if !ids.Valid(id) || loc != c.base+"/uploads/"+id {
		t.Fatalf("tus Location %q", loc)
	}
	return id
}

// tusPatch sends body at offset to the upload id, with the headers kv
// (Upload-Length, Upload-Checksum, Authorization...).
func (c *client) tusPatch(t testing.TB, id string, offset int, body []byte, kv ...string) (*http.Response, []byte) {
	t.Helper()
	return c.do(t, http.MethodPatch, "/uploads/"+id, "", bytes.NewReader(body), tusPatchHeaders(offset, kv...))
}

// tusSendPatch is tusPatch that calls no t: for goroutines, and for a
// process that may die before it answers.
func (c *client) tusSendPatch(id string, offset int, body []byte, kv ...string) (*http.Response, []byte, error) {
	return c.send(http.MethodPatch, "/uploads/"+id, "", bytes.NewReader(body), tusPatchHeaders(offset, kv...))
}

// tusPatchRequest is a PATCH of length bytes of body at offset, for a
// caller that feeds the body itself (and sends it with a client of its own
// choosing).
func (c *client) tusPatchRequest(t testing.TB, id string, offset int, body io.Reader, length int64, kv ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPatch, c.base+"/uploads/"+id, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = length
	for k, v := range tusPatchHeaders(offset, kv...) {
		req.Header.Set(k, v)
	}
	return req
}

// tusHead asks where the upload id stands (Upload-Offset, Upload-Length,
// Upload-Metadata...), with the headers kv.
func (c *client) tusHead(t testing.TB, id string, kv ...string) (*http.Response, []byte) {
	t.Helper()
	return c.do(t, http.MethodHead, "/uploads/"+id, "", nil, with(tusBase, kv...))
}

// tusDelete terminates the upload id (the termination extension).
func (c *client) tusDelete(t testing.TB, id string, kv ...string) (*http.Response, []byte) {
	t.Helper()
	return c.do(t, http.MethodDelete, "/uploads/"+id, "", nil, with(tusBase, kv...))
}

var tusChecksums = map[string]func() hash.Hash{"md5": md5.New, "sha1": sha1.New, "sha256": sha256.New}

// tusChecksum is an Upload-Checksum header for b; a wrong one is the
// checksum of other bytes.
func tusChecksum(alg string, b []byte, wrong bool) string {
	h := tusChecksums[alg]()
	h.Write(b)
	if wrong {
		h.Write([]byte{0})
	}
	return alg + " " + base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// tusgoClient is the real tus client tusgo on the endpoint base+path, over
// rt, sending the bearer key on every request.
func (c *client) tusgoClient(path string, rt http.RoundTripper, key string) *tusgo.Client {
	endpoint, _ := url.Parse(c.base + path)
	cl := tusgo.NewClient(&http.Client{Transport: rt}, endpoint)
	cl.GetRequest = func(method, u string, body io.Reader, _ *tusgo.Client, _ *http.Client) (*http.Request, error) {
		req, err := http.NewRequest(method, u, body)
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		return req, err
	}
	return cl
}
