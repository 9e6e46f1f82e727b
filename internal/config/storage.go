package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// S3 is an S3 bucket to keep bytes in, parsed from
// SATCHEL_STORAGE=s3://BUCKET?endpoint=URL&region=R&prefix=P.
type S3 struct {
	// Bucket is the bucket's name (required).
	Bucket string
	// Endpoint is an S3-compatible server's http(s) URL; empty for AWS.
	// With an endpoint, buckets are addressed path-style.
	Endpoint string
	// Region is the bucket's region: us-east-1 when an endpoint is given
	// without one; empty for AWS leaves it to the AWS environment
	// (AWS_REGION, the profile).
	Region string
	// Prefix is put before every key Satchel writes, with a slash between
	// ("uploads" -> "uploads/<fileID>"); empty for none.
	Prefix string
}

// S3 part sizes: S3's own minimum part, and the default buffered part.
const (
	MinS3PartSize     = 5 << 20
	DefaultS3PartSize = 16 << 20
	maxS3PartSize     = 5 << 30 // S3's largest part
)

const storageForms = `"file" or s3://BUCKET?endpoint=URL&region=R&prefix=P`

// ParseStorage parses a SATCHEL_STORAGE value: nil for "file", the bucket
// for an s3:// URL, else an error that says what is wrong.
func ParseStorage(raw string) (*S3, error) {
	if raw == "file" {
		return nil, nil
	}
	rest, ok := strings.CutPrefix(raw, "s3://")
	if !ok {
		return nil, fmt.Errorf("storage %q: want %s", raw, storageForms)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("storage %q: not a URL: %w", raw, err)
	}
	if u.User != nil {
		return nil, fmt.Errorf("storage %q: credentials do not go in the URL: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)", raw)
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("storage %q: the bucket takes no path; put key prefixes in ?prefix=", raw)
	}
	if u.Fragment != "" || strings.Contains(rest, "#") {
		return nil, fmt.Errorf("storage %q: want %s", raw, storageForms)
	}
	s := &S3{Bucket: u.Host}
	if err := checkBucket(s.Bucket); err != nil {
		return nil, fmt.Errorf("storage %q: %w", raw, err)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("storage %q: bad query: %w", raw, err)
	}
	for k, vs := range q {
		if len(vs) != 1 {
			return nil, fmt.Errorf("storage %q: %s given %d times", raw, k, len(vs))
		}
		switch k {
		case "endpoint":
			s.Endpoint = vs[0]
		case "region":
			s.Region = vs[0]
		case "prefix":
			s.Prefix = vs[0]
		default:
			return nil, fmt.Errorf("storage %q: unknown setting %q (want endpoint, region, prefix)", raw, k)
		}
	}
	if s.Endpoint != "" {
		e, err := url.Parse(s.Endpoint)
		if err != nil || (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" || e.User != nil || (e.Path != "" && e.Path != "/") || e.RawQuery != "" {
			return nil, fmt.Errorf("storage %q: endpoint %q must be an http(s) URL with a host and nothing after it", raw, s.Endpoint)
		}
		s.Endpoint = strings.TrimSuffix(s.Endpoint, "/")
		if s.Region == "" {
			s.Region = "us-east-1"
		}
	}
	if strings.HasPrefix(s.Prefix, "/") {
		return nil, fmt.Errorf("storage %q: prefix %q must not start with a slash", raw, s.Prefix)
	}
	s.Prefix = strings.TrimSuffix(s.Prefix, "/")
	for _, seg := range strings.Split(s.Prefix, "/") {
		if s.Prefix != "" && (seg == "" || seg == "." || seg == "..") {
			return nil, fmt.Errorf("storage %q: prefix %q has an empty, . or .. segment", raw, s.Prefix)
		}
	}
	return s, nil
}

// checkBucket allows S3's bucket names: 3 to 63 lowercase letters, digits,
// dots and hyphens, starting and ending with a letter or digit.
func checkBucket(b string) error {
	if b == "" {
		return errors.New("the bucket is missing (s3://BUCKET?...)")
	}
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("bucket %q: names are 3 to 63 characters", b)
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		alnum := 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
		if !alnum && ((c != '.' && c != '-') || i == 0 || i == len(b)-1) {
			return fmt.Errorf("bucket %q: names are lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit", b)
		}
	}
	return nil
}
