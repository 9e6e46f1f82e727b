package main

import (
	"net/http"
	"strings"
	"testing"

	"satchel/internal/testdb"
)

func TestCORS(t *testing.T) {
	s := newTestServer(t, testdb.SQLite(t))
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
	s := newTestServer(t, testdb.SQLite(t))
	if resp, _ := s.do(t, http.MethodGet, "/healthz", "", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
	if resp, body := s.do(t, http.MethodGet, "/readyz", "", nil, nil); resp.StatusCode != 200 || !strings.Contains(string(body), `"database":"ok"`) || !strings.Contains(string(body), `"storage":"ok"`) {
		t.Fatalf("readyz %d %s", resp.StatusCode, body)
	}
	// With the database gone, the instance is not ready (but alive).
	s.app.db.Close()
	if resp, body := s.do(t, http.MethodGet, "/readyz", "", nil, nil); resp.StatusCode != 503 || !strings.Contains(string(body), `"database":"unreachable"`) {
		t.Fatalf("readyz without database: %d %s", resp.StatusCode, body)
	}
	if resp, _ := s.do(t, http.MethodGet, "/healthz", "", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
}
