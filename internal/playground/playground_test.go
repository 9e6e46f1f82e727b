package playground

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	h, err := New("/graphql")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// get sends a request with the given headers, without the transport's own
// gzip handling, and returns the response with its body read.
func get(t *testing.T, srv *httptest.Server, method, path string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func assertSecurityHeaders(t *testing.T, path string, h http.Header) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
			"img-src 'self' data:; font-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
		"X-Frame-Options":        "DENY",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", path, k, got, v)
		}
	}
}

var (
	tagRe   = regexp.MustCompile(`<(script|link)\b[^>]*>`)
	urlRe   = regexp.MustCompile(`\b(?:src|href)="([^"]*)"`)
	inlineJ = regexp.MustCompile(`<script\b[^>]*>\s*[^<\s]|\son[a-z]+=|javascript:`)
)

// pageAssets returns the URLs of the page's scripts and style sheets.
func pageAssets(t *testing.T, page string) []string {
	t.Helper()
	var urls []string
	for _, tag := range tagRe.FindAllString(page, -1) {
		if m := urlRe.FindStringSubmatch(tag); m != nil {
			urls = append(urls, m[1])
		}
	}
	return urls
}

func TestPage(t *testing.T) {
	srv := newServer(t)
	resp, body := get(t, srv, "GET", "/")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	assertSecurityHeaders(t, "/", resp.Header)
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control = %q, want no-cache (the page names the assets of this build)", cc)
	}
	page := string(body)
	for _, s := range []string{"http://", "https://", `="//`} {
		if strings.Contains(page, s) {
			t.Errorf("the page references an absolute URL (%q):\n%s", s, page)
		}
	}
	if m := inlineJ.FindString(page); m != "" {
		t.Errorf("inline script in the page (%q): CSP script-src 'self' would block it", m)
	}
	if !strings.Contains(page, `data-endpoint="/graphql"`) || !strings.Contains(page, `href="/favicon.ico"`) {
		t.Errorf("the page lacks the endpoint or the favicon:\n%s", page)
	}

	// Every script and style sheet is a hashed asset of this server, cached for good.
	urls := pageAssets(t, page)
	var scripts []string
	for _, u := range urls {
		if u == "/favicon.ico" {
			continue
		}
		if !strings.HasPrefix(u, AssetPath) {
			t.Errorf("asset %q is not under %s", u, AssetPath)
			continue
		}
		r, b := get(t, srv, "GET", u)
		if r.StatusCode != 200 || len(b) == 0 || r.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s: %d, %d bytes, Cache-Control %q", u, r.StatusCode, len(b), r.Header.Get("Cache-Control"))
		}
		if strings.HasSuffix(u, ".js") {
			scripts = append(scripts, u)
		}
	}
	want := []string{"react.production.min.", "react-dom.production.min.", "graphiql.min.", "boot."}
	if len(scripts) != len(want) {
		t.Fatalf("scripts %q, want %q in that order", scripts, want)
	}
	for i, w := range want {
		if !strings.HasPrefix(scripts[i], AssetPath+w) {
			t.Errorf("script %d is %q, want %s*", i, scripts[i], w)
		}
	}

	// Revalidation.
	r, b := get(t, srv, "GET", "/", "If-None-Match", resp.Header.Get("ETag"))
	if r.StatusCode != http.StatusNotModified || len(b) != 0 {
		t.Errorf("GET / with its ETag: %d, %d bytes", r.StatusCode, len(b))
	}
	if r, _ := get(t, srv, "HEAD", "/"); r.StatusCode != 200 || r.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("HEAD /: %d", r.StatusCode)
	}
}

// sources reads dist/SOURCES.txt: file name -> SHA-256.
func sources(t *testing.T) map[string]string {
	t.Helper()
	raw, err := embedded.ReadFile("dist/SOURCES.txt")
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Split(line, "\t"); len(f) == 3 && !strings.HasPrefix(line, "#") {
			sums[f[0]] = f[1]
		}
	}
	return sums
}

func TestAssets(t *testing.T) {
	srv := newServer(t)
	sums := sources(t)
	if len(sums) != 4 {
		t.Fatalf("SOURCES.txt lists %d files, want 4: %v", len(sums), sums)
	}
	tests := []struct {
		name, file, ctype string
		min, max          int // plausible size bounds, bytes
	}{
		{"react.production.min.js", "dist/react.production.min.js", "text/javascript; charset=utf-8", 5 << 10, 64 << 10},
		{"react-dom.production.min.js", "dist/react-dom.production.min.js", "text/javascript; charset=utf-8", 64 << 10, 512 << 10},
		{"graphiql.min.js", "dist/graphiql.min.js", "text/javascript; charset=utf-8", 512 << 10, 2 << 20},
		{"graphiql.min.css", "dist/graphiql.min.css", "text/css; charset=utf-8", 16 << 10, 1 << 20},
		{"THIRD_PARTY_LICENSES.txt", "dist/THIRD_PARTY_LICENSES.txt", "text/plain; charset=utf-8", 1 << 10, 512 << 10},
		{"SOURCES.txt", "dist/SOURCES.txt", "text/plain; charset=utf-8", 100, 4 << 10},
		{"boot.js", "web/boot.js", "text/javascript; charset=utf-8", 100, 64 << 10},
		{"playground.css", "web/playground.css", "text/css; charset=utf-8", 10, 16 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := embedded.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) < tt.min || len(want) > tt.max {
				t.Errorf("%s is %d bytes, want %d..%d", tt.file, len(want), tt.min, tt.max)
			}
			if sum, ok := sums[tt.name]; ok {
				got := sha256.Sum256(want)
				if hex.EncodeToString(got[:]) != sum {
					t.Errorf("%s does not match SOURCES.txt: edited by hand? Run scripts/playground-assets.sh", tt.file)
				}
			}
			if strings.HasSuffix(tt.name, ".js") && bytes.Contains(want, []byte("sourceMappingURL=")) {
				t.Errorf("%s points to a source map that is not served", tt.file)
			}

			path := AssetPath + tt.name
			resp, body := get(t, srv, "GET", path)
			if resp.StatusCode != 200 || !bytes.Equal(body, want) {
				t.Fatalf("GET %s: %d, %d bytes (want the %d embedded)", path, resp.StatusCode, len(body), len(want))
			}
			if got := resp.Header.Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type = %q, want %q", got, tt.ctype)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("unhashed URL: Cache-Control = %q, want no-cache", got)
			}
			assertSecurityHeaders(t, path, resp.Header)
			etag := resp.Header.Get("ETag")
			if r, _ := get(t, srv, "GET", path, "If-None-Match", etag); r.StatusCode != http.StatusNotModified {
				t.Errorf("If-None-Match %s: %d, want 304", etag, r.StatusCode)
			}

			// gzip when accepted, the same bytes once inflated, its own ETag.
			resp, body = get(t, srv, "GET", path, "Accept-Encoding", "br, gzip;q=0.8")
			if resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Accept-Encoding") {
				t.Fatalf("gzip: Content-Encoding %q, Vary %q", resp.Header.Get("Content-Encoding"), resp.Header.Values("Vary"))
			}
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if inflated, err := io.ReadAll(zr); err != nil || !bytes.Equal(inflated, want) {
				t.Fatalf("gzipped body inflates to %d bytes (%v), want the %d embedded", len(inflated), err, len(want))
			}
			gzTag := resp.Header.Get("ETag")
			if gzTag == etag || gzTag == "" {
				t.Errorf("gzip ETag %q, identity ETag %q: want two different tags", gzTag, etag)
			}
			if r, _ := get(t, srv, "GET", path, "Accept-Encoding", "gzip", "If-None-Match", gzTag); r.StatusCode != http.StatusNotModified {
				t.Errorf("If-None-Match %s (gzip): %d, want 304", gzTag, r.StatusCode)
			}
			if r, _ := get(t, srv, "GET", path, "Accept-Encoding", "gzip;q=0, *"); r.Header.Get("Content-Encoding") != "" {
				t.Errorf("gzip;q=0: Content-Encoding %q", r.Header.Get("Content-Encoding"))
			}
		})
	}
}

func TestFavicon(t *testing.T) {
	srv := newServer(t)
	resp, body := get(t, srv, "GET", "/favicon.ico", "Accept-Encoding", "gzip")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/x-icon" {
		t.Fatalf("GET /favicon.ico: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !bytes.HasPrefix(body, []byte{0, 0, 1, 0}) || len(body) > 4<<10 {
		t.Errorf("favicon: %d bytes starting %x, want a small ICO", len(body), body[:min(4, len(body))])
	}
	if resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("ETag") == "" || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age=") {
		t.Errorf("favicon headers: %v", resp.Header)
	}
	assertSecurityHeaders(t, "/favicon.ico", resp.Header)
}

func TestNotFound(t *testing.T) {
	srv := newServer(t)
	h, _ := New("/graphql")
	for _, path := range []string{AssetPath, AssetPath + "nope.js", AssetPath + "boot.0123456789ab.js", AssetPath + "../web/boot.js", AssetPath + "web/boot.js", AssetPath + "index.html"} {
		// Through the handler directly: the mux would clean "..".
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if rec.Code != 404 || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error.Code != "NOT_FOUND" {
			t.Errorf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
	}
	if resp, _ := get(t, srv, "POST", "/"); resp.StatusCode == 200 {
		t.Errorf("POST / through the mux: %d", resp.StatusCode)
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"GZIP", true},
		{"deflate, gzip;q=1.0, *;q=0.5", true},
		{"br", false},
		{"gzip;q=0", false},
		{"gzip; q=0.001", true},
		{"*", true},
		{"*;q=0", false},
		{"gzip;q=0, *", false},
		{"identity", false},
		{"x-gzip", true},
	}
	for _, tt := range tests {
		if got := acceptsGzip([]string{tt.header}); got != tt.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}
