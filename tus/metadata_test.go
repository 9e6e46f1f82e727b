package tus

import (
	"encoding/base64"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/tus/tusd/v2/pkg/handler"

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

// sized is a valid Upload-Metadata header of exactly n bytes (n >= 6).
func sized(n int) string {
	b := 4 * ((n - 2) / 4)
	return strings.Repeat("k", n-1-b) + " " + enc(strings.Repeat("v", b/4*3))
}

// The largest metadata Satchel itself reads fits the bounds with room to
// spare; one byte, one pair or one key byte over them is refused.
func TestMetadataBounds(t *testing.T) {
	var tags []string
	for i := range 50 {
		tags = append(tags, fmt.Sprintf(`{"name":"%0128d","searchable":%t}`, i, i < 10))
	}
	largest := "filename " + enc(strings.Repeat("n", 255)) + ",filetype " + enc("application/"+strings.Repeat("x", 243)) +
		",tags " + enc("["+strings.Join(tags, ",")+"]") + ",uploadId " + enc(strings.Repeat("u", 43))
	if _, err := ParseMetadata(largest); err != nil {
		t.Fatalf("largest valid metadata (%d bytes) refused: %v", len(largest), err)
	}
	if room := maxMetadataBytes - len(largest); room < 2048 {
		t.Fatalf("the largest valid metadata leaves %d bytes for other keys", room)
	}
	pairs := func(n int) string {
		var ps []string
		for i := range n {
			ps = append(ps, fmt.Sprintf("k%d %s", i, enc("v")))
		}
		return strings.Join(ps, ",")
	}
	for _, tc := range []struct {
		header string
		ok     bool
	}{
		{pairs(maxMetadataPairs), true},
		{pairs(maxMetadataPairs + 1), false},
		{strings.Repeat("k", maxMetadataKey) + " " + enc("v"), true},
		{strings.Repeat("k", maxMetadataKey+1) + " " + enc("v"), false},
		{sized(maxMetadataBytes), true},
		{sized(maxMetadataBytes + 1), false},
		{sized(1 << 20), false},
	} {
		if tc.ok && len(tc.header) > maxMetadataBytes {
			t.Fatalf("test header of %d bytes", len(tc.header))
		}
		_, err := ParseMetadata(tc.header)
		if tc.ok && err != nil || !tc.ok && apperr.CodeOf(err) != apperr.BadUserInput {
			t.Errorf("ParseMetadata(%d bytes, %d pairs) = %v, want ok=%v", len(tc.header), strings.Count(tc.header, ",")+1, err, tc.ok)
		}
	}
}

// A header of well-formed pairs is accepted exactly when it is within the
// bounds; and then every pair comes back as it went in (what HEAD answers
// is what the client sent).
func FuzzMetadataBound(f *testing.F) {
	f.Add(uint8(3), uint8(8), uint16(100))
	f.Add(uint8(maxMetadataPairs), uint8(2), uint16(10))
	f.Add(uint8(maxMetadataPairs+1), uint8(2), uint16(10))
	f.Add(uint8(1), uint8(maxMetadataKey+1), uint16(1))
	f.Add(uint8(2), uint8(60), uint16(12000))
	f.Fuzz(func(t *testing.T, pairs, keyLen uint8, valueLen uint16) {
		sent := map[string]string{}
		var ps []string
		longest := 0
		for i := range int(pairs) {
			key := fmt.Sprintf("%0*d", int(keyLen), i)
			longest = max(longest, len(key))
			sent[key] = strings.Repeat("v", int(valueLen))
			ps = append(ps, key+" "+enc(sent[key]))
		}
		header := strings.Join(ps, ",")
		within := len(header) <= maxMetadataBytes && int(pairs) <= maxMetadataPairs && longest <= maxMetadataKey
		err := checkMetadata(header)
		if within != (err == nil) {
			t.Fatalf("%d pairs, keys of %d bytes, %d bytes: within bounds %v, checkMetadata %v", pairs, longest, len(header), within, err)
		}
		if err != nil {
			if apperr.CodeOf(err) != apperr.BadUserInput {
				t.Fatalf("checkMetadata: %v is not BAD_USER_INPUT", err)
			}
			return
		}
		back := handler.ParseMetadataHeader(handler.SerializeMetadataHeader(handler.ParseMetadataHeader(header)))
		if !maps.Equal(back, sent) {
			t.Fatalf("%d pairs sent, %d come back", len(sent), len(back))
		}
	})
}
