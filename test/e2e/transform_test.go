package e2e

// Transformations: presets managed over GraphQL, eager renders after an
// upload, on-demand renders (once for concurrent requests, cached,
// invalidated by an update), hostile inputs (not an image, a decompression
// bomb), presets scoped to their account, results deleted with their file.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	_ "image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/image/webp"

	"satchel/internal/config"
	"satchel/models"
	"satchel/transforms"
)

// countingRenderer counts renders reaching the real renderer.
type countingRenderer struct {
	inner interface {
		Render(ctx context.Context, src []byte, p transforms.Preset) (*transforms.Result, error)
	}
	n    atomic.Int64 // all renders
	mu   sync.Mutex
	name map[string]int // renders by preset
}

func (c *countingRenderer) of(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.name[name]
}

func (c *countingRenderer) Render(ctx context.Context, src []byte, p transforms.Preset) (*transforms.Result, error) {
	c.n.Add(1)
	c.mu.Lock()
	c.name[p.Name]++
	c.mu.Unlock()
	time.Sleep(20 * time.Millisecond) // widen the window for concurrent requests
	return c.inner.Render(ctx, src, p)
}

func testJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x + y) % 256), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// bombPNG is a PNG whose header claims 20000x20000 pixels, in a few bytes.
func bombPNG() []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], 20000)
	binary.BigEndian.PutUint32(ihdr[4:], 20000)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

func (s *testServer) upload(t *testing.T, key, mime string, data []byte) string {
	t.Helper()
	resp, body := s.do(t, http.MethodPost, "/files/basic", key, bytes.NewReader(data), map[string]string{"Content-Type": mime, "X-Upload-File-Name": "pic"})
	return s.uploadedID(t, "upload", resp, body)
}

type transformed struct {
	URL    string
	Status string
	Width  *int
	Height *int
	Mime   *string
}

func (s *testServer) transformation(t *testing.T, id, name string) *transformed {
	t.Helper()
	_, r := s.gql(t, s.keys.SecretKey, `query($id: ID!, $n: String!) { file(id: $id) { transformation(name: $n) { url status width height mime } } }`, map[string]any{"id": id, "n": name})
	if len(r.Errors) > 0 {
		t.Fatalf("transformation: %+v", r.Errors)
	}
	var out struct {
		File struct{ Transformation *transformed }
	}
	json.Unmarshal(r.Data, &out)
	return out.File.Transformation
}

func (s *testServer) preset(t *testing.T, op string, in map[string]any) gqlResponse {
	t.Helper()
	_, r := s.gql(t, s.keys.SecretKey, fmt.Sprintf(`mutation($in: TransformationInput!) { %s(input: $in) { name version width height fit format } }`, op), map[string]any{"in": in})
	return r
}

func imageSize(t *testing.T, data []byte, mime string) (int, int) {
	t.Helper()
	var cfg image.Config
	var err error
	if mime == "image/webp" {
		cfg, err = webp.DecodeConfig(bytes.NewReader(data))
	} else {
		cfg, _, err = image.DecodeConfig(bytes.NewReader(data))
	}
	if err != nil {
		t.Fatalf("decode %s: %v", mime, err)
	}
	return cfg.Width, cfg.Height
}

func TestTransformations(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		counter := &countingRenderer{inner: s.app.Images.Renderer, name: map[string]int{}}
		s.app.Images.Renderer = counter

		if r := s.preset(t, "createTransformation", map[string]any{"name": "thumb", "width": 64, "height": 64, "fit": "COVER", "format": "WEBP"}); len(r.Errors) > 0 {
			t.Fatalf("create: %+v", r.Errors)
		}
		if r := s.preset(t, "createTransformation", map[string]any{"name": "thumb", "width": 10}); r.errCode() != "BAD_USER_INPUT" {
			t.Fatalf("duplicate: %+v", r.Errors)
		}
		for _, bad := range []map[string]any{{"name": "Bad Name", "width": 10}, {"name": "x"}, {"name": "x", "width": 100000}, {"name": "x", "width": 10, "quality": 101}} {
			if r := s.preset(t, "createTransformation", bad); r.errCode() != "BAD_USER_INPUT" {
				t.Fatalf("%v: %+v", bad, r.Errors)
			}
		}
		if _, r := s.gql(t, s.keys.PublicKey, `{ transformations { name } }`, nil); r.errCode() != "FORBIDDEN" {
			t.Fatalf("public key: %+v", r.Errors)
		}

		t.Run("eager render after upload", func(t *testing.T) {
			id := s.upload(t, s.keys.PublicKey, "image/jpeg", testJPEG(t, 400, 200))
			var tf *transformed
			waitFor(t, 10*time.Second, func() bool {
				tf = s.transformation(t, id, "thumb")
				return tf != nil && tf.Status == "READY"
			})
			if *tf.Width != 64 || *tf.Height != 64 || *tf.Mime != "image/webp" || !strings.HasSuffix(tf.URL, "/files/"+id+"/thumb?v=1") {
				t.Fatalf("result %+v", tf)
			}
			before := counter.of("thumb")
			resp, body := s.do(t, http.MethodGet, strings.TrimPrefix(tf.URL, s.URL), "", nil, nil)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/webp" || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || resp.Header.Get("ETag") == "" {
				t.Fatalf("get: %d %v", resp.StatusCode, resp.Header)
			}
			if w, h := imageSize(t, body, "image/webp"); w != 64 || h != 64 {
				t.Fatalf("served %dx%d", w, h)
			}
			if counter.of("thumb") != before {
				t.Fatal("a ready result rendered again")
			}
			// Query parameters change nothing.
			_, again := s.do(t, http.MethodGet, "/files/"+id+"/thumb?width=4000&format=png", "", nil, nil)
			if !bytes.Equal(again, body) {
				t.Fatal("query parameters changed the result")
			}
			if r, _ := s.do(t, http.MethodGet, "/files/"+id+"/thumb", "", nil, map[string]string{"If-None-Match": resp.Header.Get("ETag")}); r.StatusCode != 304 {
				t.Fatalf("conditional: %d", r.StatusCode)
			}
		})

		t.Run("on demand, once for concurrent requests, cached, invalidated by update", func(t *testing.T) {
			id := s.upload(t, s.keys.PublicKey, "image/jpeg", testJPEG(t, 300, 600))
			if r := s.preset(t, "createTransformation", map[string]any{"name": "card", "width": 100, "height": 100, "fit": "INSIDE", "format": "PNG"}); len(r.Errors) > 0 {
				t.Fatalf("%+v", r.Errors)
			}
			if tf := s.transformation(t, id, "card"); tf == nil || tf.Status != "PENDING" {
				t.Fatalf("before any request: %+v", tf)
			}
			before := counter.of("card")
			var wg sync.WaitGroup
			bodies := make([][]byte, 10)
			for i := range bodies {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					resp, body := s.do(t, http.MethodGet, "/files/"+id+"/card", "", nil, nil)
					if resp.StatusCode != 200 {
						t.Errorf("get %d: %d %s", i, resp.StatusCode, body)
					}
					bodies[i] = body
				}(i)
			}
			wg.Wait()
			if got := counter.of("card") - before; got != 1 {
				t.Fatalf("%d renders for 10 concurrent requests, want 1", got)
			}
			if w, h := imageSize(t, bodies[0], "image/png"); w != 50 || h != 100 {
				t.Fatalf("inside 100x100 of 300x600 = %dx%d", w, h)
			}
			s.do(t, http.MethodGet, "/files/"+id+"/card", "", nil, nil)
			if got := counter.of("card") - before; got != 1 {
				t.Fatalf("cache miss: %d renders", got)
			}
			r := s.preset(t, "updateTransformation", map[string]any{"name": "card", "width": 40, "height": 40, "fit": "FILL", "format": "JPEG"})
			if len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"version":2`) {
				t.Fatalf("update: %s %+v", r.Data, r.Errors)
			}
			resp, body := s.do(t, http.MethodGet, "/files/"+id+"/card", "", nil, nil)
			if resp.Header.Get("Content-Type") != "image/jpeg" {
				t.Fatalf("after update: %s", resp.Header.Get("Content-Type"))
			}
			if w, h := imageSize(t, body, "image/jpeg"); w != 40 || h != 40 {
				t.Fatalf("after update %dx%d", w, h)
			}
			if tf := s.transformation(t, id, "card"); !strings.HasSuffix(tf.URL, "?v=2") || tf.Status != "READY" {
				t.Fatalf("after update: %+v", tf)
			}
			n := counter.of("card")
			if _, r := s.gql(t, s.keys.SecretKey, `mutation { clearTransformationCache(name: "card") { version } }`, nil); len(r.Errors) > 0 {
				t.Fatalf("clear: %+v", r.Errors)
			}
			s.do(t, http.MethodGet, "/files/"+id+"/card", "", nil, nil)
			if counter.of("card") != n+1 {
				t.Fatal("clearTransformationCache did not force a render")
			}
		})

		t.Run("not an image, a bomb, unknown preset, another account's preset", func(t *testing.T) {
			txt := s.upload(t, s.keys.PublicKey, "text/plain", []byte("hello"))
			resp, body := s.do(t, http.MethodGet, "/files/"+txt+"/thumb", "", nil, nil)
			if resp.StatusCode != 422 || errorCode(t, body) != "NOT_AN_IMAGE" {
				t.Fatalf("text: %d %s", resp.StatusCode, body)
			}
			lying := s.upload(t, s.keys.PublicKey, "image/png", []byte("definitely not a png"))
			waitFor(t, 10*time.Second, func() bool { tf := s.transformation(t, lying, "thumb"); return tf != nil && tf.Status == "FAILED" })
			n := counter.of("thumb")
			resp, body = s.do(t, http.MethodGet, "/files/"+lying+"/thumb", "", nil, nil)
			if resp.StatusCode != 422 || errorCode(t, body) != "NOT_AN_IMAGE" || counter.of("thumb") != n {
				t.Fatalf("lying png: %d %s (renders %d)", resp.StatusCode, body, counter.of("thumb")-n)
			}
			bomb := bombPNG()
			if len(bomb) > 1<<20 {
				t.Fatal("bomb too big")
			}
			bid := s.upload(t, s.keys.PublicKey, "image/png", bomb)
			start := time.Now()
			resp, body = s.do(t, http.MethodGet, "/files/"+bid+"/thumb", "", nil, nil)
			t.Logf("bomb refused in %v", time.Since(start))
			if resp.StatusCode != 413 || errorCode(t, body) != "TOO_LARGE" {
				t.Fatalf("bomb: %d %s", resp.StatusCode, body)
			}
			img := s.upload(t, s.keys.PublicKey, "image/jpeg", testJPEG(t, 50, 50))
			resp, body = s.do(t, http.MethodGet, "/files/"+img+"/nope", "", nil, nil)
			if resp.StatusCode != 404 || errorCode(t, body) != "NOT_FOUND" {
				t.Fatalf("unknown preset: %d %s", resp.StatusCode, body)
			}
			if tf := s.transformation(t, img, "nope"); tf != nil {
				t.Fatalf("unknown preset in GraphQL: %+v", tf)
			}
			// Presets belong to accounts: another account's "big" does not
			// apply to this account's file.
			_, otherKey := s.newAccount(t, "other", models.KindSecret)
			if _, r := s.gql(t, otherKey, `mutation { createTransformation(input: {name: "big", width: 10}) { name } }`, nil); len(r.Errors) > 0 {
				t.Fatalf("other preset: %+v", r.Errors)
			}
			if r, _ := s.do(t, http.MethodGet, "/files/"+img+"/big", "", nil, nil); r.StatusCode != 404 {
				t.Fatalf("another account's preset applied: %d", r.StatusCode)
			}
			if _, r := s.gql(t, otherKey, `{ transformations { name } }`, nil); !strings.Contains(string(r.Data), `"big"`) || strings.Contains(string(r.Data), `"thumb"`) {
				t.Fatalf("transformations of the other account: %s", r.Data)
			}
			// The server is still up and rendering.
			if r, _ := s.do(t, http.MethodGet, "/files/"+img+"/thumb", "", nil, nil); r.StatusCode != 200 {
				t.Fatalf("after hostile inputs: %d", r.StatusCode)
			}
		})

		t.Run("deleting a file deletes its results; deleting a preset", func(t *testing.T) {
			id := s.upload(t, s.keys.PublicKey, "image/jpeg", testJPEG(t, 120, 80))
			if r, _ := s.do(t, http.MethodGet, "/files/"+id+"/thumb", "", nil, nil); r.StatusCode != 200 {
				t.Fatalf("render: %d", r.StatusCode)
			}
			if len(s.derivedStored(t, id)) == 0 {
				t.Fatal("no stored result")
			}
			if _, r := s.gql(t, s.keys.SecretKey, `mutation($id: ID!) { deleteFile(id: $id) { id } }`, map[string]any{"id": id}); len(r.Errors) > 0 {
				t.Fatalf("delete: %+v", r.Errors)
			}
			// A render still running when the file went (the eager one of
			// another preset) removes what it stored as it ends.
			waitFor(t, 5*time.Second, func() bool { return len(s.derivedStored(t, id)) == 0 })
			time.Sleep(100 * time.Millisecond)
			if left := s.leftInStore(t, id); len(left) != 0 {
				t.Fatalf("results or bytes survive their file: %v", left)
			}
			if b.Store == fileStore {
				if _, err := os.Stat(filepath.Join(s.cfg.FilesDir(), "derived", id)); !os.IsNotExist(err) {
					t.Fatalf("the file's directory of results survives it: %v", err)
				}
			}
			if r, _ := s.do(t, http.MethodGet, "/files/"+id+"/thumb", "", nil, nil); r.StatusCode != 404 {
				t.Fatalf("deleted file's result: %d", r.StatusCode)
			}
			other := s.upload(t, s.keys.PublicKey, "image/jpeg", testJPEG(t, 120, 80))
			if _, r := s.gql(t, s.keys.SecretKey, `mutation { deleteTransformation(name: "thumb") { name } }`, nil); len(r.Errors) > 0 {
				t.Fatalf("delete preset: %+v", r.Errors)
			}
			if r, _ := s.do(t, http.MethodGet, "/files/"+other+"/thumb", "", nil, nil); r.StatusCode != 404 {
				t.Fatalf("deleted preset: %d", r.StatusCode)
			}
			if _, r := s.gql(t, s.keys.SecretKey, `mutation { deleteTransformation(name: "thumb") { name } }`, nil); r.errCode() != "NOT_FOUND" {
				t.Fatalf("delete twice: %+v", r.Errors)
			}
		})
	})
}

func TestTransformationPixelLimitIsConfigurable(t *testing.T) {
	eachStore(t, testTransformationPixelLimit)
}

func testTransformationPixelLimit(t *testing.T, b backend) {
	s := newTestServer(t, b, func(c *config.Config) { c.MaxImagePixels = 150 * 150 })
	if r := s.preset(t, "createTransformation", map[string]any{"name": "t", "width": 32}); len(r.Errors) > 0 {
		t.Fatalf("%+v", r.Errors)
	}
	small := s.upload(t, s.keys.PublicKey, "application/octet-stream", testJPEG(t, 100, 100))
	big := s.upload(t, s.keys.PublicKey, "application/octet-stream", testJPEG(t, 200, 200))
	if r, body := s.do(t, http.MethodGet, "/files/"+small+"/t", "", nil, nil); r.StatusCode != 200 {
		t.Fatalf("under the limit: %d %s", r.StatusCode, body)
	}
	if r, body := s.do(t, http.MethodGet, "/files/"+big+"/t", "", nil, nil); r.StatusCode != 413 || errorCode(t, body) != "TOO_LARGE" {
		t.Fatalf("over the limit: %d %s", r.StatusCode, body)
	}
}
