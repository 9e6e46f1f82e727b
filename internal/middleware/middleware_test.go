package middleware

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCleanPaths(t *testing.T) {
	h := CleanPaths(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	for _, c := range []struct {
		target string
		status int
	}{
		{"/files/abc", 204},
		{"/files/r%C3%A9sum%C3%A9", 204},
		{"/graphql?query=%7B%0A%20files%20%7D", 204}, // line breaks in a GET query
		{"/files/a%00b", 400},
		{"/files/a%0Ab", 400},
		{"/files/%FF%FE", 400},
		{"/uploads/x%7F", 400},
		{"/graphql?query=%00", 400},
		{"/graphql?query=%C3%28", 400},
		{"/graphql?query=%zz", 204}, // malformed escapes are the route's business
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, c.target, nil))
		if rec.Code != c.status {
			t.Errorf("%s: %d, want %d (%s)", c.target, rec.Code, c.status, rec.Body)
		}
	}
}

func FuzzCleanPaths(f *testing.F) {
	for _, s := range []string{"/files/abc", "/a%00", "/%FF", "query=%0A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if cleanPath(s) {
			for _, r := range s {
				if r < 0x20 || r == 0x7f {
					t.Fatalf("cleanPath(%q) let a control character through", s)
				}
			}
		}
		_ = cleanQuery(s)
	})
}
