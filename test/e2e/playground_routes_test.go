package e2e

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"satchel/internal/config"
	"satchel/internal/testdb"
)

// TestPlaygroundRoutes: the embedded playground is served at / with its
// assets and favicon, and SATCHEL_PLAYGROUND=false takes all of it away
// (404 NOT_FOUND, as for any unknown route).
func TestPlaygroundRoutes(t *testing.T) {
	on := newTestServer(t, testdb.SQLite(t))
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

	off := newTestServer(t, testdb.SQLite(t), func(c *config.Config) { c.Playground = false })
	for _, p := range paths {
		resp, body := off.do(t, http.MethodGet, p, "", nil, nil)
		if resp.StatusCode != 404 || errorCode(t, body) != "NOT_FOUND" || resp.Header.Get("Content-Security-Policy") != "" {
			t.Errorf("GET %s with the playground off: %d %s", p, resp.StatusCode, body)
		}
	}
}
