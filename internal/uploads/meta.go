package uploads

import (
	"encoding/json"
	"mime"
	"strings"
	"unicode"
	"unicode/utf8"

	"satchel/internal/apperr"
	"satchel/models"
)

// Meta is the client-supplied description of an upload, already validated.
type Meta struct {
	Name string
	Mime string
	Tags []models.Tag
}

// ParseMeta validates raw name, type and tags JSON.
func ParseMeta(name, mimeType, tagsJSON string) (Meta, error) {
	tags, err := ParseTags(tagsJSON)
	if err != nil {
		return Meta{}, err
	}
	return NewMeta(name, mimeType, tags)
}

// NewMeta validates a name, a type and tags ("" for absent).
func NewMeta(name, mimeType string, tags []models.Tag) (Meta, error) {
	var m Meta
	var err error
	if m.Name, err = ValidateFileName(name); err != nil {
		return m, err
	}
	if m.Mime, err = ValidateMime(mimeType); err != nil {
		return m, err
	}
	if m.Tags, err = NormalizeTags(tags); err != nil {
		return m, err
	}
	return m, nil
}

// Limits on client-supplied metadata.
const (
	MaxFileNameBytes   = 255
	MaxTagNameBytes    = 128
	MaxTags            = 50
	MaxSearchableTags  = 10
	maxTagsJSONBytes   = 16 << 10
	maxMimeBytes       = 255
	defaultFileName    = "file"
	defaultContentType = "application/octet-stream"
)

// ValidateFileName checks a client-supplied file name. Names are only ever
// metadata (never paths), but hostile ones are refused outright so that no
// client gets back something surprising.
func ValidateFileName(name string) (string, error) {
	if name == "" {
		return "", nil
	}
	switch {
	case len(name) > MaxFileNameBytes:
		return "", apperr.Newf(apperr.BadUserInput, "file name is longer than %d bytes", MaxFileNameBytes)
	case !utf8.ValidString(name):
		return "", apperr.New(apperr.BadUserInput, "file name is not valid UTF-8")
	case name == "." || name == "..":
		return "", apperr.New(apperr.BadUserInput, "file name must not be . or ..")
	case strings.ContainsAny(name, `/\`):
		return "", apperr.New(apperr.BadUserInput, "file name must not contain path separators")
	case strings.TrimSpace(name) != name:
		return "", apperr.New(apperr.BadUserInput, "file name must not begin or end with white space")
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == utf8.RuneError || unicode.Is(unicode.Cf, r) {
			return "", apperr.New(apperr.BadUserInput, "file name must not contain control or format characters")
		}
	}
	return name, nil
}

// ValidateMime checks a declared media type and returns it normalised
// ("" when none was declared).
func ValidateMime(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if len(s) > maxMimeBytes {
		return "", apperr.New(apperr.BadUserInput, "file type is too long")
	}
	mt, params, err := mime.ParseMediaType(s)
	if err != nil || !strings.Contains(mt, "/") {
		return "", apperr.Newf(apperr.BadUserInput, "file type %q is not a media type", truncate(s, 64))
	}
	return mime.FormatMediaType(mt, params), nil
}

// ValidTagName reports whether name is an acceptable tag: 1 to 128 bytes of
// letters, digits and - _ . : / @ + =.
func ValidTagName(name string) bool {
	if name == "" || len(name) > MaxTagNameBytes {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.:/@+=", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// ParseTags reads a JSON array of tags. Each element is either a string (a
// searchable tag) or {"name": "...", "searchable": bool} (searchable
// defaults to true). Duplicate names keep their first occurrence.
func ParseTags(s string) ([]models.Tag, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return []models.Tag{}, nil
	}
	if len(s) > maxTagsJSONBytes {
		return nil, apperr.New(apperr.BadUserInput, "tags are too long")
	}
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, apperr.New(apperr.BadUserInput, `tags must be a JSON array of names or {"name","searchable"} objects`)
	}
	in := make([]models.Tag, 0, len(raw))
	for _, r := range raw {
		var name string
		if err := json.Unmarshal(r, &name); err == nil {
			in = append(in, models.Tag{Name: name, Searchable: true})
			continue
		}
		var obj struct {
			Name       *string `json:"name"`
			Searchable *bool   `json:"searchable"`
		}
		dec := json.NewDecoder(strings.NewReader(string(r)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&obj); err != nil || obj.Name == nil {
			return nil, apperr.New(apperr.BadUserInput, `each tag must be a name or {"name","searchable"}`)
		}
		t := models.Tag{Name: *obj.Name, Searchable: true}
		if obj.Searchable != nil {
			t.Searchable = *obj.Searchable
		}
		in = append(in, t)
	}
	return NormalizeTags(in)
}

// NormalizeTags validates tags and drops duplicates.
func NormalizeTags(in []models.Tag) ([]models.Tag, error) {
	out := make([]models.Tag, 0, len(in))
	seen := map[string]bool{}
	searchable := 0
	for _, t := range in {
		if !ValidTagName(t.Name) {
			return nil, apperr.Newf(apperr.BadUserInput, "tag %q: names are 1 to %d characters of letters, digits and - _ . : / @ + =", truncate(t.Name, 64), MaxTagNameBytes)
		}
		if seen[t.Name] {
			continue
		}
		seen[t.Name] = true
		if t.Searchable {
			searchable++
		}
		out = append(out, t)
	}
	if len(out) > MaxTags {
		return nil, apperr.Newf(apperr.BadUserInput, "at most %d tags per file", MaxTags)
	}
	if searchable > MaxSearchableTags {
		return nil, apperr.Newf(apperr.BadUserInput, "at most %d searchable tags per file", MaxSearchableTags)
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
