package tus

import (
	"encoding/base64"
	"strings"
	"testing"

	"satchel/internal/apperr"
)

func enc(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParseMetadata(t *testing.T) {
	m, err := ParseMetadata("filename " + enc("a.png") + ",filetype " + enc("image/png") + ",tags " + enc(`["x",{"name":"y","searchable":false}]`) + ",other " + enc("z"))
	if err != nil || m.Name != "a.png" || m.Mime != "image/png" || len(m.Tags) != 2 || m.Tags[1].Searchable {
		t.Fatalf("ParseMetadata = %+v, %v", m, err)
	}
	for _, bad := range []string{
		"filename " + enc("../../etc/passwd"),
		"filename " + enc("a\x00b"),
		"filename " + enc(strings.Repeat("n", 10240)),
		"filetype " + enc("not a type"),
		"tags " + enc("{"),
		"tags " + enc(`[""]`),
		strings.Repeat("k", 100) + " " + enc("v"),
	} {
		if _, err := ParseMetadata(bad); apperr.CodeOf(err) != apperr.BadUserInput {
			t.Errorf("ParseMetadata(%.40q) = %v, want BAD_USER_INPUT", bad, err)
		}
	}
}

func FuzzParseMetadata(f *testing.F) {
	f.Add("filename " + enc("a.txt") + ",filetype " + enc("text/plain"))
	f.Add("tags " + enc(`["a","b"]`))
	f.Add("filename !!!notbase64,,, ,")
	f.Add("uploadId " + enc("x") + ",tags")
	f.Fuzz(func(t *testing.T, header string) {
		m, err := ParseMetadata(header)
		if err != nil {
			if apperr.CodeOf(err) != apperr.BadUserInput {
				t.Fatalf("ParseMetadata(%q): %v is not BAD_USER_INPUT", header, err)
			}
			return
		}
		if strings.ContainsAny(m.Name, "/\\\x00") {
			t.Fatalf("hostile name accepted: %q", m.Name)
		}
	})
}
