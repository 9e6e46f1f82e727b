package config

import (
	"io"
	"strings"
	"testing"
)

func TestParseStorage(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want *S3
	}{
		{"file", nil},
		{"s3://my-bucket", &S3{Bucket: "my-bucket"}},
		{"s3://my-bucket/", &S3{Bucket: "my-bucket"}},
		{"s3://my-bucket?region=eu-west-3", &S3{Bucket: "my-bucket", Region: "eu-west-3"}},
		{"s3://b.example?endpoint=http://127.0.0.1:9000", &S3{Bucket: "b.example", Endpoint: "http://127.0.0.1:9000", Region: "us-east-1"}},
		{"s3://bkt?endpoint=https://minio.local/&region=x&prefix=satchel/prod/", &S3{Bucket: "bkt", Endpoint: "https://minio.local", Region: "x", Prefix: "satchel/prod"}},
		{"s3://bkt?endpoint=http%3A%2F%2Fh%3A1&prefix=p", &S3{Bucket: "bkt", Endpoint: "http://h:1", Region: "us-east-1", Prefix: "p"}},
	} {
		got, err := ParseStorage(tc.raw)
		if err != nil {
			t.Errorf("%s: %v", tc.raw, err)
			continue
		}
		if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
			t.Errorf("%s: %+v, want %+v", tc.raw, got, tc.want)
		}
	}
}

// A bad value is refused at start with a message that names what is wrong.
func TestParseStorageRejects(t *testing.T) {
	for raw, says := range map[string]string{
		"":                                "want",
		"tape":                            "want",
		"S3://bucket":                     "want",
		"s3://":                           "bucket is missing",
		"s3://?endpoint=http://h":         "bucket is missing",
		"s3://ab":                         "3 to 63",
		"s3://Bucket":                     "lowercase",
		"s3://bucket:9000":                "lowercase",
		"s3://-bucket":                    "lowercase",
		"s3://bucket/path":                "no path",
		"s3://key:secret@bucket":          "credentials",
		"s3://bucket?endpoint=ftp://h":    "http(s) URL",
		"s3://bucket?endpoint=h:9000":     "http(s) URL",
		"s3://bucket?endpoint=http://":    "http(s) URL",
		"s3://bucket?endpoint=http://h/x": "nothing after it",
		"s3://bucket?prefix=/p":           "must not start with a slash",
		"s3://bucket?prefix=a//b":         "empty",
		"s3://bucket?prefix=a/../b":       "..",
		"s3://bucket?regoin=x":            "unknown setting",
		"s3://bucket?region=a&region=b":   "2 times",
	} {
		_, err := ParseStorage(raw)
		if err == nil {
			t.Errorf("%q accepted", raw)
			continue
		}
		if !strings.Contains(err.Error(), says) {
			t.Errorf("%q: %v; want it to say %q", raw, err, says)
		}
	}
}

func FuzzParseStorage(f *testing.F) {
	for _, s := range []string{"file", "s3://b-b?endpoint=http://h:1&prefix=p/q", "s3://x?y=%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		s, err := ParseStorage(raw)
		if err != nil || s == nil {
			return
		}
		if checkBucket(s.Bucket) != nil || strings.HasPrefix(s.Prefix, "/") || strings.HasSuffix(s.Prefix, "/") {
			t.Fatalf("%q parsed to %+v", raw, s)
		}
		if s.Endpoint != "" && (s.Region == "" || !strings.HasPrefix(s.Endpoint, "http")) {
			t.Fatalf("%q parsed to %+v", raw, s)
		}
	})
}

func TestS3Settings(t *testing.T) {
	env := map[string]string{"SATCHEL_STORAGE": "s3://bucket?endpoint=http://127.0.0.1:9000", "SATCHEL_S3_PART_SIZE": "32MiB"}
	c, err := Load("t", nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.S3 == nil || c.S3.Bucket != "bucket" || c.S3.Region != "us-east-1" || c.S3PartSize != 32<<20 {
		t.Fatalf("%+v %+v", c, c.S3)
	}
	c, err = Load("t", []string{"--storage", "file"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.S3 != nil {
		t.Fatalf("the flag did not win: %+v, %v", c.S3, err)
	}
	if c, _ := Load("t", nil, func(string) string { return "" }, io.Discard); c.S3 != nil || c.S3PartSize != DefaultS3PartSize {
		t.Fatalf("defaults: %+v, %d", c.S3, c.S3PartSize)
	}
	for _, bad := range []string{"4MiB", "6GiB", "lots"} {
		if _, err := Load("t", []string{"--s3-part-size", bad}, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("part size %s accepted", bad)
		}
	}
}
