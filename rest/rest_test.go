package rest

import (
	"net/url"
	"testing"
)

func TestHeaderFileName(t *testing.T) {
	cases := map[string]string{
		"plain.txt":              "plain.txt",
		"r%C3%A9sum%C3%A9.pdf":   "résumé.pdf",
		"100%.txt":               "100%.txt",
		"a%2Fb":                  "a/b", // refused later as a path
		"%E6%97%A5%E6%9C%AC.png": "日本.png",
	}
	for in, want := range cases {
		if got := headerFileName(in); got != want {
			t.Errorf("headerFileName(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzHeaderFileName(f *testing.F) {
	f.Add("r%C3%A9sum%C3%A9.pdf")
	f.Add("100%.txt")
	f.Fuzz(func(t *testing.T, s string) {
		got := headerFileName(s)
		if got == s {
			return
		}
		// A changed name must be exactly the percent-decoding of the header.
		if d, err := url.PathUnescape(s); err != nil || d != got {
			t.Fatalf("headerFileName(%q) = %q", s, got)
		}
	})
}
