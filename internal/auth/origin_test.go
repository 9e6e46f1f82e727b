package auth

import (
	"net/http/httptest"
	"testing"
)

func TestCrossOrigin(t *testing.T) {
	s := &Service{PublicURL: "https://files.example.com"}
	for _, c := range []struct {
		origin, host string
		cross        bool
	}{
		{"", "anything", false},
		{"https://files.example.com", "files.example.com", false},
		{"HTTPS://Files.Example.COM:443", "files.example.com", false},
		{"http://files.example.com", "files.example.com", true}, // another scheme
		{"https://files.example.com:8443", "files.example.com", true},
		{"https://evil.example", "evil.example", true}, // the Host is the client's to set
		{"null", "files.example.com", true},
		{"https://files.example.com.evil.example", "files.example.com", true},
		{"not a url", "files.example.com", true},
	} {
		r := httptest.NewRequest("POST", "/graphql", nil)
		r.Host = c.host
		if c.origin != "" {
			r.Header.Set("Origin", c.origin)
		}
		if got := s.crossOrigin(r); got != c.cross {
			t.Errorf("Origin %q Host %q: cross-origin %v, want %v", c.origin, c.host, got, c.cross)
		}
	}
}

func TestOriginAllowed(t *testing.T) {
	allowed := []string{"https://app.example.com", "http://localhost:3000/"}
	for _, c := range []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{"https://app.example.com", true},
		{"https://APP.example.com:443", true},
		{"http://localhost:3000", true},
		{"http://localhost:3001", false},
		{"https://app.example.com.evil", false},
		{"null", false},
	} {
		if got := OriginAllowed(allowed, c.origin); got != c.ok {
			t.Errorf("OriginAllowed(%q) = %v", c.origin, got)
		}
	}
	if !OriginAllowed(nil, "https://any.example") {
		t.Error("a key without origins is allowed anywhere")
	}
}

func FuzzNormalizeOrigin(f *testing.F) {
	for _, s := range []string{"https://a.example", "http://[::1]:80", "null", "HTTP://X:8080/path", "", "https://u:p@h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		o, ok := NormalizeOrigin(raw)
		if !ok {
			return
		}
		again, ok2 := NormalizeOrigin(o)
		if !ok2 || again != o {
			t.Fatalf("NormalizeOrigin(%q) = %q, and again %q %v", raw, o, again, ok2)
		}
	})
}
