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

func TestSniffAndContradicts(t *testing.T) {
	cases := []struct {
		declared string
		content  string
		sniffed  string
		contra   bool
	}{
		{"image/png", "\x89PNG\r\n\x1a\n....", "image/png", false},
		{"image/png", "<!DOCTYPE html><html>", "text/html", true},
		{"image/png", "GIF89a....", "image/gif", true}, // another image: not what was declared
		{"image/svg+xml", `<?xml version="1.0"?><svg/>`, "text/xml", false},
		{"application/atom+xml", `<?xml version="1.0"?><feed/>`, "text/xml", false},
		{"image/png", `<?xml version="1.0"?><svg/>`, "text/xml", true},
		{"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "PK\x03\x04....", "application/zip", false},
		{"application/epub+zip", "PK\x03\x04....", "application/zip", false},
		{"image/heic", "\x00\x00\x00\x18ftypheic", "application/octet-stream", false},
		{"text/csv", "a,b,c\n1,2,3\n", "text/plain", false},
		{"audio/ogg", "OggS\x00\x02........", "application/ogg", false},
		{"Image/PNG; q=1", "\x89PNG\r\n\x1a\n....", "image/png", false},
		{"application/pdf", "%PDF-1.4 ...", "application/pdf", false},
		{"image/jpeg", "%PDF-1.4 ...", "application/pdf", true},
	}
	for _, c := range cases {
		if got := Sniff([]byte(c.content)); got != c.sniffed {
			t.Errorf("Sniff(%q) = %q, want %q", c.content, got, c.sniffed)
		}
		if got := Contradicts(c.declared, c.sniffed); got != c.contra {
			t.Errorf("Contradicts(%q, %q) = %v", c.declared, c.sniffed, got)
		}
	}
}

func FuzzContradicts(f *testing.F) {
	f.Add("image/png", []byte("<html>"))
	f.Add("image/svg+xml", []byte(`<?xml version="1.0"?>`))
	f.Add("", []byte{})
	f.Fuzz(func(t *testing.T, declared string, head []byte) {
		s := Sniff(head)
		if s == "" || strings.Contains(s, ";") {
			t.Fatalf("Sniff = %q", s)
		}
		if Contradicts(s, s) {
			t.Fatalf("%q contradicts itself", s)
		}
		if Indeterminate(s) && Contradicts(declared, s) {
			t.Fatalf("indeterminate %q contradicts %q", s, declared)
		}
	})
}
