package uploads

import (
	"strings"
	"testing"

	"satchel/internal/apperr"
)

func TestValidateFileName(t *testing.T) {
	good := []string{"", "a.txt", "résumé final.pdf", "日本語.png", "a b"}
	bad := []string{"../etc/passwd", `a\b`, "a/b", "..", ".", "a\x00b", "a\nb", "a\u202eb", strings.Repeat("x", 10240), "\xff\xfe", " lead"}
	for _, n := range good {
		if _, err := ValidateFileName(n); err != nil {
			t.Errorf("ValidateFileName(%q) = %v", n, err)
		}
	}
	for _, n := range bad {
		if _, err := ValidateFileName(n); apperr.CodeOf(err) != apperr.BadUserInput {
			t.Errorf("ValidateFileName(%q) = %v, want BAD_USER_INPUT", n, err)
		}
	}
}

func TestParseTags(t *testing.T) {
	tags, err := ParseTags(`["a", {"name":"b","searchable":false}, {"name":"c"}, "a"]`)
	if err != nil {
		t.Fatal(err)
	}
	if len(tags) != 3 || tags[0].Name != "a" || !tags[0].Searchable || tags[1].Searchable || !tags[2].Searchable {
		t.Fatalf("tags = %+v", tags)
	}
	for _, bad := range []string{`{`, `"a"`, `[1]`, `[{"nom":"x"}]`, `[""]`, `["a b"]`, `[null]`,
		`["1","2","3","4","5","6","7","8","9","10","11"]`} {
		if _, err := ParseTags(bad); apperr.CodeOf(err) != apperr.BadUserInput {
			t.Errorf("ParseTags(%q) = %v, want BAD_USER_INPUT", bad, err)
		}
	}
}

func FuzzParseTags(f *testing.F) {
	for _, s := range []string{`["a"]`, `[{"name":"b","searchable":false}]`, `[]`, `{`, `[[]]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tags, err := ParseTags(s)
		if err != nil {
			if apperr.CodeOf(err) != apperr.BadUserInput {
				t.Fatalf("ParseTags(%q): %v is not BAD_USER_INPUT", s, err)
			}
			return
		}
		n := 0
		for _, tg := range tags {
			if !ValidTagName(tg.Name) {
				t.Fatalf("invalid tag %q accepted", tg.Name)
			}
			if tg.Searchable {
				n++
			}
		}
		if n > MaxSearchableTags || len(tags) > MaxTags {
			t.Fatalf("limits exceeded: %d tags", len(tags))
		}
	})
}

func FuzzValidateFileName(f *testing.F) {
	for _, s := range []string{"a.txt", "../x", "a\x00", "日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, err := ValidateFileName(s)
		if err != nil {
			return
		}
		if strings.ContainsAny(name, "/\\\x00\n\r") || len(name) > MaxFileNameBytes {
			t.Fatalf("hostile name %q accepted", name)
		}
	})
}
