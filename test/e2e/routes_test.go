package e2e

// The routes around the API: CORS preflights and the headers a browser
// may read, health and readiness, the metrics token and ops routes closed
// to other origins, the playground and its switch.

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"satchel/internal/config"
	"satchel/internal/testdb"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestCORS(t *testing.T) {
	eachStore(t, testCORS)
}

func testCORS(t *testing.T, b backend) {
	s := newTestServer(t, b)
	const origin = "https://app.example.com"
	for _, route := range []string{"/uploads/", "/files/basic", "/graphql", "/files/0123456789abcdefABCDEF"} {
		resp, _ := s.do(t, http.MethodOptions, route, "", nil, map[string]string{
			"Origin":                         origin,
			"Access-Control-Request-Method":  "POST",
			"Access-Control-Request-Headers": "authorization,content-type,tus-resumable,upload-checksum,upload-concat,upload-defer-length,upload-length,upload-metadata,upload-offset,x-upload-file-name,x-upload-tags",
		})
		if resp.StatusCode/100 != 2 || resp.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Fatalf("preflight %s: %d allow-origin %q", route, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
		allowed := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
		for _, h := range []string{"tus-resumable", "upload-metadata", "upload-offset", "upload-checksum", "authorization", "x-upload-tags"} {
			if !strings.Contains(allowed, h) {
				t.Errorf("preflight %s does not allow %s: %q", route, h, allowed)
			}
		}
	}
	// Methods tus needs, one preflight each.
	for _, m := range []string{"PATCH", "HEAD", "DELETE"} {
		resp, _ := s.do(t, http.MethodOptions, "/uploads/0123456789abcdefABCDEF", "", nil, map[string]string{"Origin": origin, "Access-Control-Request-Method": m})
		if resp.Header.Get("Access-Control-Allow-Origin") != origin || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), m) {
			t.Errorf("preflight %s: methods %q", m, resp.Header.Get("Access-Control-Allow-Methods"))
		}
	}
	// An actual cross-origin tus creation exposes the tus headers, once (one CORS layer).
	resp, _ := s.tusCreate(t, s.keys.PublicKey, map[string]string{"Origin": origin, "Upload-Length": "3"}, []byte("abc"))
	if resp.StatusCode != 201 {
		t.Fatalf("cross-origin create with a public key: %d", resp.StatusCode)
	}
	if got := resp.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != origin {
		t.Fatalf("Access-Control-Allow-Origin = %q", got)
	}
	exposed := strings.ToLower(strings.Join(resp.Header.Values("Access-Control-Expose-Headers"), ","))
	for _, h := range []string{"location", "upload-offset", "upload-length", "tus-resumable", "upload-metadata", "upload-expires", "upload-concat", "tus-checksum-algorithm", "etag"} {
		if !strings.Contains(exposed, h) {
			t.Errorf("not exposed: %s (%q)", h, exposed)
		}
	}
}

func TestHealthAndReadiness(t *testing.T) {
	eachStore(t, testHealthAndReadiness)
}

func testHealthAndReadiness(t *testing.T, b backend) {
	s := newTestServer(t, b)
	if resp, _ := s.do(t, http.MethodGet, "/healthz", "", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
	if resp, body := s.do(t, http.MethodGet, "/readyz", "", nil, nil); resp.StatusCode != 200 || !strings.Contains(string(body), `"database":"ok"`) || !strings.Contains(string(body), `"storage":"ok"`) {
		t.Fatalf("readyz %d %s", resp.StatusCode, body)
	}
	// On S3, with the bucket gone, the instance is not ready.
	if b.Store == s3Store {
		if _, err := s.bucket.srv.Client().DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: aws.String(s.bucket.name)}); err != nil {
			t.Fatal(err)
		}
		// (Some S3 servers take a moment to forget a bucket.)
		var resp *http.Response
		var body []byte
		waitFor(t, 10*time.Second, func() bool {
			resp, body = s.do(t, http.MethodGet, "/readyz", "", nil, nil)
			return resp.StatusCode != 200
		})
		if resp.StatusCode != 503 || !strings.Contains(string(body), `"storage":"unreachable"`) || !strings.Contains(string(body), `"database":"ok"`) {
			t.Fatalf("readyz without the bucket: %d %s", resp.StatusCode, body)
		}
	}
	// With the database gone, the instance is not ready (but alive).
	s.app.DB.Close()
	if resp, body := s.do(t, http.MethodGet, "/readyz", "", nil, nil); resp.StatusCode != 503 || !strings.Contains(string(body), `"database":"unreachable"`) {
		t.Fatalf("readyz without database: %d %s", resp.StatusCode, body)
	}
	if resp, _ := s.do(t, http.MethodGet, "/healthz", "", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
}

func TestOpsRoutesNotCrossOrigin(t *testing.T) {
	s := newTestServer(t, fileBackend(testdb.SQLite(t)), func(c *config.Config) { c.MetricsToken = "s3cret-scrape" })
	origin := "https://evil.example"
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		for _, m := range []string{http.MethodGet, http.MethodOptions} {
			resp, _ := s.do(t, m, path, "", nil, map[string]string{"Origin": origin, "Access-Control-Request-Method": "GET", "Authorization": "Bearer s3cret-scrape"})
			if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
				t.Errorf("%s %s answers Access-Control-Allow-Origin %q", m, path, v)
			}
			if m == http.MethodGet && resp.Header.Get("Cross-Origin-Resource-Policy") != "same-origin" {
				t.Errorf("%s without Cross-Origin-Resource-Policy", path)
			}
		}
	}
	for _, c := range []struct {
		auth   string
		status int
	}{{"", 401}, {"Bearer nope", 401}, {"Basic czNjcmV0LXNjcmFwZQ==", 401}, {"Bearer s3cret-scrape", 200}} {
		resp, body := s.do(t, http.MethodGet, "/metrics", "", nil, map[string]string{"Authorization": c.auth})
		if resp.StatusCode != c.status || (c.status == 401 && errorCode(t, body) != "UNAUTHENTICATED") || (c.status == 200 && !strings.Contains(string(body), "satchel_db_statements_total")) {
			t.Errorf("metrics with %q: %d %.100s", c.auth, resp.StatusCode, body)
		}
	}
}

// TestPlaygroundRoutes: the embedded playground is served at / with its
// assets and favicon, and SATCHEL_PLAYGROUND=false takes all of it away
// (404 NOT_FOUND, as for any unknown route).
func TestPlaygroundRoutes(t *testing.T) {
	on := newTestServer(t, fileBackend(testdb.SQLite(t)))
	resp, body := on.do(t, http.MethodGet, "/", "", nil, nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("GET / with the playground on: %d %v", resp.StatusCode, resp.Header)
	}
	asset := regexp.MustCompile(`src="(/playground/boot\.[0-9a-f]+\.js)"`).FindSubmatch(body)
	if asset == nil {
		t.Fatalf("no boot script in the page:\n%s", body)
	}
	paths := []string{"/", "/favicon.ico", string(asset[1]), "/playground/graphiql.min.js", "/playground/THIRD_PARTY_LICENSES.txt"}
	for _, p := range paths {
		if resp, _ := on.do(t, http.MethodGet, p, "", nil, nil); resp.StatusCode != 200 {
			t.Errorf("GET %s with the playground on: %d", p, resp.StatusCode)
		}
	}

	off := newTestServer(t, fileBackend(testdb.SQLite(t)), func(c *config.Config) { c.Playground = false })
	for _, p := range paths {
		resp, body := off.do(t, http.MethodGet, p, "", nil, nil)
		if resp.StatusCode != 404 || errorCode(t, body) != "NOT_FOUND" || resp.Header.Get("Content-Security-Policy") != "" {
			t.Errorf("GET %s with the playground off: %d %s", p, resp.StatusCode, body)
		}
	}
}
