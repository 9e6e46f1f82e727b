package tus

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"satchel/internal/apperr"
)

func TestParseChecksum(t *testing.T) {
	md5Sum, sha1Sum, sha256Sum := md5.Sum([]byte("x")), sha1.Sum([]byte("x")), sha256.Sum256([]byte("x"))
	for header, want := range map[string][]byte{
		"md5 " + base64.StdEncoding.EncodeToString(md5Sum[:]):       md5Sum[:],
		"sha1 " + base64.StdEncoding.EncodeToString(sha1Sum[:]):     sha1Sum[:],
		"sha256 " + base64.StdEncoding.EncodeToString(sha256Sum[:]): sha256Sum[:],
	} {
		c, err := parseChecksum(header)
		if err != nil || !bytes.Equal(c.Sum, want) || !strings.HasPrefix(header, c.Algorithm+" ") {
			t.Errorf("parseChecksum(%q) = %+v, %v", header, c, err)
		}
	}
	sum := base64.StdEncoding.EncodeToString(sha256Sum[:])
	for _, bad := range []string{
		"",
		"sha256",
		"sha256 ",
		" " + sum,
		"sha256  " + sum,
		"sha256 " + sum + " x",
		"sha256 " + sum + " ",
		"SHA256 " + sum,
		"crc32 AAAAAA==",
		"sha512 " + sum,
		"sha256 " + strings.TrimRight(sum, "="),
		"sha256 " + base64.URLEncoding.EncodeToString(sha256Sum[:]) + "_-",
		"sha256 !!!!",
		"sha256 " + base64.StdEncoding.EncodeToString(sha256Sum[:31]),
		"sha256 " + base64.StdEncoding.EncodeToString(append(sha256Sum[:], 0)),
		"sha1 " + sum,
		"md5 " + sum,
		strings.Repeat("a", 1000) + " " + sum,
	} {
		if _, err := parseChecksum(bad); apperr.CodeOf(err) != apperr.BadUserInput {
			t.Errorf("parseChecksum(%.60q) = %v, want BAD_USER_INPUT", bad, err)
		}
	}
}

// Whatever the header, parseChecksum either refuses it as BAD_USER_INPUT
// or returns an advertised algorithm and a digest of its size that spell
// the header exactly.
func FuzzParseChecksum(f *testing.F) {
	sha := sha256.Sum256(nil)
	f.Add("sha256 " + base64.StdEncoding.EncodeToString(sha[:]))
	f.Add("md5 1B2M2Y8AsgTpgAmY7PhCfg==")
	f.Add("sha1 2jmj7l5rSw0yVb/vlWAYkK/YBwk=")
	f.Add("sha256 not base64")
	f.Add("crc32 AAAAAA==")
	f.Fuzz(func(t *testing.T, header string) {
		c, err := parseChecksum(header)
		if err != nil {
			if apperr.CodeOf(err) != apperr.BadUserInput {
				t.Fatalf("parseChecksum(%q): %v is not BAD_USER_INPUT", header, err)
			}
			return
		}
		newHash, ok := checksumAlgorithms[c.Algorithm]
		if !ok || !strings.Contains(","+checksumAlgorithmList+",", ","+c.Algorithm+",") {
			t.Fatalf("parseChecksum(%q): algorithm %q is not advertised", header, c.Algorithm)
		}
		if len(c.Sum) != newHash().Size() {
			t.Fatalf("parseChecksum(%q): %d-byte digest for %s", header, len(c.Sum), c.Algorithm)
		}
		if canonical := c.Algorithm + " " + base64.StdEncoding.EncodeToString(c.Sum); canonical != header {
			t.Fatalf("parseChecksum(%q) accepted a header that is not %q", header, canonical)
		}
	})
}

// Every algorithm a client may use is advertised, and only those.
func TestChecksumAlgorithmsAdvertised(t *testing.T) {
	names := strings.Split(checksumAlgorithmList, ",")
	if len(names) != len(checksumAlgorithms) {
		t.Fatalf("Tus-Checksum-Algorithm %q, algorithms %d", checksumAlgorithmList, len(checksumAlgorithms))
	}
	for _, n := range names {
		if checksumAlgorithms[n] == nil {
			t.Errorf("%s is advertised but not verified", n)
		}
	}
}
