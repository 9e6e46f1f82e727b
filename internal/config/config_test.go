package config

import (
	"io"
	"testing"
	"time"
)

func TestLoadPrecedence(t *testing.T) {
	env := map[string]string{"SATCHEL_ADDR": "127.0.0.1:9", "SATCHEL_MAX_UPLOAD_SIZE": "1MiB", "SATCHEL_UPLOAD_TTL": "2h", "SATCHEL_MAX_IMAGE_PIXELS": "1000000"}
	c, err := Load("t", []string{"--addr", "127.0.0.1:10"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:10" {
		t.Errorf("flag should win over env: %q", c.Addr)
	}
	if c.MaxUploadSize != 1<<20 || c.UploadTTL != 2*time.Hour || c.MaxImagePixels != 1e6 || c.MaxImageBytes != 64<<20 {
		t.Errorf("env not applied: %+v", c)
	}
	if c.PublicURL != "http://127.0.0.1:10" {
		t.Errorf("public url default: %q", c.PublicURL)
	}
}

func TestLoadRejects(t *testing.T) {
	for _, args := range [][]string{{"--max-upload-size", "lots"}, {"--log-level", "loud"}, {"--public-url", "ftp://x"}, {"--storage", "tape"}, {"extra"}, {"--max-image-pixels", "0"}, {"--max-image-bytes", "x"}} {
		if _, err := Load("t", args, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("Load(%v) accepted", args)
		}
	}
}

func TestParseSize(t *testing.T) {
	cases := map[string]int64{"0": 0, "1048576": 1 << 20, "10GiB": 10 << 30, "5 MB": 5e6, "7B": 7}
	for in, want := range cases {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "1.5GiB", "99999999999TiB", "GiB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"1", "10GiB", "5 MB", "-3", "9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err == nil && n < 0 {
			t.Fatalf("ParseSize(%q) = %d", s, n)
		}
	})
}

func TestGraphQLLimitsFromTheEnvironment(t *testing.T) {
	env := map[string]string{"SATCHEL_GRAPHQL_MAX_BODY_BYTES": "2MiB", "SATCHEL_GRAPHQL_MAX_ALIASES": "50", "SATCHEL_GRAPHQL_MAX_COMPLEXITY": "1000"}
	c, err := Load("t", nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.GraphQL.MaxBodyBytes != 2<<20 || c.GraphQL.MaxAliases != 50 || c.GraphQL.MaxComplexity != 1000 || c.GraphQL.MaxDepth != 0 {
		t.Fatalf("%+v", c.GraphQL)
	}
	for _, bad := range []map[string]string{{"SATCHEL_GRAPHQL_MAX_DEPTH": "0"}, {"SATCHEL_GRAPHQL_MAX_TOKENS": "lots"}, {"SATCHEL_GRAPHQL_MAX_DOCUMENT_BYTES": "-1"}} {
		if _, err := Load("t", nil, func(k string) string { return bad[k] }, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
