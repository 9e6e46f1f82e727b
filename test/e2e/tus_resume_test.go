package e2e

// End to end with a real tus client (tusgo): a 20 MB upload whose
// connection is cut mid-PATCH resumes from the offset the server reports,
// and the file is exact (SHA-256, download, range, conditional GET).

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bdragon300/tusgo"
)

// cutTransport aborts the first PATCH body once cutAt bytes of it have been
// sent, like a mobile connection dropping mid-upload.
type cutTransport struct {
	base  http.RoundTripper
	cutAt int64
	cut   atomic.Bool
}

var errCut = errors.New("connection cut by test")

func (c *cutTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPatch && r.Body != nil && !c.cut.Load() {
		r.Body = &cuttingBody{ReadCloser: r.Body, left: c.cutAt, t: c}
	}
	return c.base.RoundTrip(r)
}

type cuttingBody struct {
	io.ReadCloser
	left int64
	t    *cutTransport
}

func (b *cuttingBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Give the server time to read what was sent before the link dies,
		// as a real dropped connection does; then fail the body.
		time.Sleep(200 * time.Millisecond)
		b.t.cut.Store(true)
		return 0, errCut
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

func TestTusUploadResumesAfterCut(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		const size = 20 << 20
		data := make([]byte, size)
		rand.Read(data)
		sum := sha256.Sum256(data)

		ct := &cutTransport{base: http.DefaultTransport, cutAt: 3<<20 + 12345}
		cl := s.tusgoClient("/uploads/", ct, s.keys.PublicKey)
		up := tusgo.Upload{}
		if _, err := cl.CreateUpload(&up, size, false, map[string]string{"filename": "big.bin", "filetype": "application/octet-stream", "tags": `["e2e"]`}); err != nil {
			t.Fatalf("create: %v", err)
		}
		stream := tusgo.NewUploadStream(cl, &up)
		stream.ChunkSize = 4 << 20
		src := bytes.NewReader(data)
		_, err := io.Copy(stream, src)
		if err == nil || !ct.cut.Load() {
			t.Fatalf("expected the cut to interrupt the upload, got err=%v cut=%v", err, ct.cut.Load())
		}
		// Resume from the offset the server reports.
		stream.ForceClean()
		if _, err := stream.Sync(); err != nil {
			t.Fatalf("sync: %v", err)
		}
		off := stream.Tell()
		if off <= 0 || off >= size {
			t.Fatalf("server offset after cut = %d, want inside (0, %d)", off, size)
		}
		t.Logf("resuming at offset %d", off)
		if _, err := src.Seek(off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(stream, src); err != nil {
			t.Fatalf("resume: %v", err)
		}
		id := up.Location[len(up.Location)-22:]

		code, r := s.gql(t, s.keys.SecretKey, `query($id: ID!) { file(id: $id) { id name size sha256 mime url tags { name } } }`, map[string]any{"id": id})
		if code != 200 || len(r.Errors) > 0 {
			t.Fatalf("file query: %d %+v", code, r.Errors)
		}
		want := fmt.Sprintf(`{"file":{"id":%q,"name":"big.bin","size":%d,"sha256":%q,"mime":"application/octet-stream","url":%q,"tags":[{"name":"e2e"}]}}`,
			id, size, hex.EncodeToString(sum[:]), s.URL+"/files/"+id)
		if string(r.Data) != want {
			t.Fatalf("file = %s\nwant   %s", r.Data, want)
		}

		resp, body := s.do(t, http.MethodGet, "/files/"+id, "", nil, nil)
		if resp.StatusCode != 200 || !bytes.Equal(body, data) {
			t.Fatalf("download: status %d, %d bytes, identical=%v", resp.StatusCode, len(body), bytes.Equal(body, data))
		}
		etag := resp.Header.Get("ETag")
		if etag != `"`+hex.EncodeToString(sum[:])+`"` {
			t.Fatalf("ETag = %s", etag)
		}
		resp, body = s.do(t, http.MethodGet, "/files/"+id, "", nil, map[string]string{"Range": "bytes=1000-1999"})
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[1000:2000]) ||
			resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 1000-1999/%d", size) {
			t.Fatalf("range: %d %q %d bytes", resp.StatusCode, resp.Header.Get("Content-Range"), len(body))
		}
		resp, _ = s.do(t, http.MethodGet, "/files/"+id, "", nil, map[string]string{"If-None-Match": etag})
		if resp.StatusCode != http.StatusNotModified {
			t.Fatalf("If-None-Match: %d", resp.StatusCode)
		}
	})
}
