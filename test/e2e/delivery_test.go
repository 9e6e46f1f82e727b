package e2e

import (
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// Delivery: GET and HEAD /files/{id} answer each type with its
// Content-Type, a safe Content-Disposition (attachment for what a browser
// would run), nosniff, ETag and Last-Modified, and conditional requests.

func TestAPIDeliveryHeaders(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		sec := s.keys.SecretKey
		type upload struct {
			name, mime, body string
			disposition      string
		}
		uploads := []upload{
			{"résumé.pdf", "application/pdf", "%PDF-1.4 not really", "inline"},
			{`say "hi".txt`, "text/plain; charset=utf-8", "hi", "inline"},
			{`a;b=c, "d".txt`, "text/plain", "odd", "inline"},
			{"日本語 ファイル.png", "image/png", "\x89PNG\r\n\x1a\n", "inline"},
			{"page.html", "text/html", "<script>alert(1)</script>", "attachment"},
			{"page.htm", "text/html; charset=utf-8", "<b>x</b>", "attachment"},
			{"vector.svg", "image/svg+xml", "<svg xmlns='http://www.w3.org/2000/svg'/>", "attachment"},
			{"page.xhtml", "application/xhtml+xml", "<html/>", "attachment"},
			{"PAGE.HTML", "TEXT/HTML", "<b>x</b>", "attachment"},
			{"style.xsl", "text/xsl", "<xsl:stylesheet/>", "attachment"},
			{"feed.rss", "application/rss+xml", "<rss/>", "attachment"},
			{"feed.atom", "application/atom+xml", "<feed/>", "attachment"},
			{"math.mml", "application/mathml+xml", "<math/>", "attachment"},
			{"t.xslt", "application/xslt+xml", "<xsl:stylesheet/>", "attachment"},
			{"doc.xml", "text/xml", "<a/>", "attachment"},
			{"doc2.xml", "application/xml", "<a/>", "attachment"},
			{"app.js", "text/javascript", "alert(1)", "attachment"},
			{"app2.js", "application/javascript", "alert(1)", "attachment"},
			{"app3.js", "application/ecmascript", "alert(1)", "attachment"},
			{"app.mjs", "application/x-javascript", "alert(1)", "attachment"},
			{"blob.bin", "application/octet-stream", "\x00\x01", "attachment"},
			{"data.json", "application/json", `{"a":1}`, "inline"},
			{"song.mp3", "audio/mpeg", "ID3", "inline"},
			{"clip.mp4", "video/mp4", "\x00\x00\x00\x18ftypmp42", "inline"},
		}
		for _, u := range uploads {
			t.Run(u.name, func(t *testing.T) {
				id := s.basicUpload(t, sec, u.name, u.mime, []byte(u.body))
				var last http.Header
				runScenarios(t, s, []scenario{{
					name: "GET", method: "GET", url: "/files/" + id, status: 200, contains: []string{u.body},
					headersWant: map[string]string{
						"Content-Length":         strconv.Itoa(len(u.body)),
						"X-Content-Type-Options": "nosniff",
					},
					after: func(t *testing.T, resp *http.Response, body []byte) {
						last = resp.Header
						checkDeliveryHeaders(t, resp.Header, u.name, u.mime, u.disposition)
						if string(body) != u.body {
							t.Fatalf("body %q, want %q", body, u.body)
						}
					},
				}})
				runScenarios(t, s, []scenario{
					{name: "HEAD", method: "HEAD", url: "/files/" + id, status: 200,
						headersWant: map[string]string{"Content-Length": strconv.Itoa(len(u.body)), "X-Content-Type-Options": "nosniff"},
						after: func(t *testing.T, resp *http.Response, _ []byte) {
							checkDeliveryHeaders(t, resp.Header, u.name, u.mime, u.disposition)
							for _, h := range []string{"ETag", "Last-Modified", "Content-Disposition", "Content-Type"} {
								if resp.Header.Get(h) != last.Get(h) {
									t.Errorf("HEAD %s = %q, GET had %q", h, resp.Header.Get(h), last.Get(h))
								}
							}
						}},
					{name: "If-None-Match", method: "GET", url: "/files/" + id, headers: map[string]string{"If-None-Match": last.Get("ETag")},
						status: 304},
					{name: "If-Modified-Since", method: "GET", url: "/files/" + id, headers: map[string]string{"If-Modified-Since": last.Get("Last-Modified")},
						status: 304},
				})
			})
		}
	})
}

func checkDeliveryHeaders(t *testing.T, h http.Header, name, mimeType, disposition string) {
	t.Helper()
	wantType, wantParams, _ := mime.ParseMediaType(mimeType)
	gotType, gotParams, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || gotType != wantType || gotParams["charset"] != wantParams["charset"] {
		t.Errorf("Content-Type %q, want %q", h.Get("Content-Type"), mimeType)
	}
	if etag := h.Get("ETag"); !regexp.MustCompile(`^"[0-9a-f]{64}"$`).MatchString(etag) {
		t.Errorf("ETag %q, want the quoted SHA-256", etag)
	}
	if lm, err := http.ParseTime(h.Get("Last-Modified")); err != nil || time.Since(lm) > time.Hour || time.Until(lm) > time.Minute {
		t.Errorf("Last-Modified %q", h.Get("Last-Modified"))
	}
	cd := h.Get("Content-Disposition")
	for i := 0; i < len(cd); i++ {
		if cd[i] < 0x20 || cd[i] >= 0x7f {
			t.Fatalf("Content-Disposition is not plain ASCII: %q", cd)
		}
	}
	disp, params, err := mime.ParseMediaType(cd)
	if err != nil {
		t.Fatalf("Content-Disposition %q does not parse: %v", cd, err)
	}
	if disp != disposition {
		t.Errorf("Content-Disposition %q, want %s", cd, disposition)
	}
	if params["filename"] != name {
		t.Errorf("Content-Disposition %q names %q, want %q", cd, params["filename"], name)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("X-Content-Type-Options %q", h.Get("X-Content-Type-Options"))
	}
}
