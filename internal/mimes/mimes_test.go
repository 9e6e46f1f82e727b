package mimes

import (
	"strings"
	"testing"
)

func TestAllowed(t *testing.T) {
	cases := []struct {
		mt       string
		patterns []string
		want     bool
	}{
		{"image/png", []string{"image/*"}, true},
		{"IMAGE/PNG", []string{"image/*"}, true},
		{"text/plain", []string{"image/*"}, false},
		{"text/plain; charset=utf-8", []string{"text/plain"}, true},
		{"x/y", nil, true},
		{"application/pdf", []string{"*/*"}, true},
		{"imagex/png", []string{"image/*"}, false},
	}
	for _, c := range cases {
		if got := Allowed(c.mt, c.patterns); got != c.want {
			t.Errorf("Allowed(%q, %q) = %v", c.mt, c.patterns, got)
		}
	}
}

func FuzzValidPattern(f *testing.F) {
	for _, s := range []string{"image/*", "*/*", "application/pdf", "*/png", "a/", "/b", "a/b/c", "a b/c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if !ValidPattern(p) {
			return
		}
		if strings.Count(p, "/") != 1 || strings.ContainsAny(p, " \t\r\n;,\"") {
			t.Fatalf("ValidPattern(%q) accepted a malformed pattern", p)
		}
		if !strings.Contains(p, "*") && !Allowed(p, []string{p}) {
			t.Fatalf("%q does not allow itself", p)
		}
		if strings.HasSuffix(p, "/*") && !Allowed(strings.TrimSuffix(p, "*")+"x", []string{p}) {
			t.Fatalf("%q does not allow a type under it", p)
		}
	})
}
