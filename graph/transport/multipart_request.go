package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"

	"satchel/internal/apperr"
	"satchel/internal/auth"
)

// open reads the operations and the map, binds an Upload to every mapped
// path and reads the first file part's header.
func (m multipartForm) open(r *http.Request, body io.ReadCloser, p *auth.Principal) (*partStream, *graphql.RawParams, error) {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return nil, nil, errBadMultipart("the Content-Type has no multipart boundary")
	}
	mr := multipart.NewReader(body, params["boundary"])
	ops, err := m.jsonPart(mr, "operations", "first")
	if err != nil {
		return nil, nil, err
	}
	rp, err := decodeOperations(ops)
	if err != nil {
		return nil, nil, err
	}
	raw, err := m.jsonPart(mr, "map", "second")
	if err != nil {
		return nil, nil, err
	}
	fields, err := decodeMap(raw, m.maxFiles)
	if err != nil {
		return nil, nil, err
	}
	s := &partStream{mr: mr, files: map[string]*streamFile{}}
	if m.sizes != nil {
		s.check = func(n int64) error { return m.sizes.CheckSize(p, n) }
	}
	for _, f := range fields {
		sf := &streamFile{name: f.name}
		s.files[f.name] = sf
		s.order = append(s.order, sf)
		for _, path := range f.paths {
			rd := &uploadReader{s: s, file: sf}
			sf.readers = append(sf.readers, rd)
			if err := bindUpload(rp.Variables, path, rd); err != nil {
				return nil, nil, err
			}
		}
	}
	if err := s.start(); err != nil {
		return nil, nil, err
	}
	return s, rp, nil
}

// jsonPart reads the next part, which must be the form field name, and
// returns its body (at most maxJSON bytes).
func (m multipartForm) jsonPart(mr *multipart.Reader, name, nth string) ([]byte, error) {
	part, err := mr.NextPart()
	if err == io.EOF {
		return nil, apperr.Newf(apperr.BadUserInput, "the %s part must be %q; the body ended before it", nth, name)
	}
	if err != nil {
		return nil, readError(err)
	}
	if got := part.FormName(); got != name {
		return nil, apperr.Newf(apperr.BadUserInput, "the %s part must be %q, not %q", nth, name, truncate(got))
	}
	b, err := io.ReadAll(io.LimitReader(part, m.maxJSON+1))
	if err != nil {
		return nil, readError(err)
	}
	if int64(len(b)) > m.maxJSON {
		return nil, apperr.Newf(apperr.TooLarge, "the %q part is larger than %d bytes", name, m.maxJSON)
	}
	return b, nil
}

func decodeOperations(b []byte) (*graphql.RawParams, error) {
	if !utf8.Valid(b) {
		return nil, apperr.New(apperr.BadUserInput, `the "operations" part is not UTF-8`)
	}
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		return nil, apperr.New(apperr.BadUserInput, "batched operations are not supported: send one operation (a JSON object) per request")
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, apperr.New(apperr.BadUserInput, `the "operations" part must be a JSON object {"query","variables",...}`)
	}
	var rp graphql.RawParams
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&rp); err != nil || dec.More() {
		return nil, apperr.New(apperr.BadUserInput, `the "operations" part is not a valid JSON object {"query","variables",...}`)
	}
	if rp.Variables == nil {
		rp.Variables = map[string]any{}
	}
	return &rp, nil
}

type mapField struct {
	name  string
	paths []string
}

// decodeMap reads the map part, keeping its order and refusing duplicates.
func decodeMap(b []byte, maxFiles int) ([]mapField, error) {
	errShape := apperr.New(apperr.BadUserInput, `the "map" part must be a JSON object from file field names to arrays of object paths, like {"0":["variables.file"]}`)
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errShape
	}
	var fields []mapField
	seen := map[string]bool{}
	paths := 0
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, errShape
		}
		name, _ := t.(string)
		var f mapField
		if err := dec.Decode(&f.paths); err != nil {
			return nil, errShape
		}
		switch {
		case name == "" || name == "operations" || name == "map":
			return nil, apperr.Newf(apperr.BadUserInput, "%q cannot name a file in the map", name)
		case seen[name]:
			return nil, apperr.Newf(apperr.BadUserInput, "the map names file %q twice", truncate(name))
		case len(f.paths) == 0:
			return nil, apperr.Newf(apperr.BadUserInput, "the map gives file %q no object path", truncate(name))
		}
		seen[name] = true
		f.name = name
		paths += len(f.paths)
		if len(fields) >= maxFiles || paths > maxFiles {
			return nil, apperr.Newf(apperr.BadUserInput, "too many files: at most %d per request", maxFiles)
		}
		fields = append(fields, f)
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, errShape
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errShape
	}
	return fields, nil
}

// bindUpload puts an Upload reading rd's file at path ("variables.a.0.b"),
// which must exist in vars and hold null.
func bindUpload(vars map[string]any, path string, rd *uploadReader) error {
	file := rd.file.name
	segs := strings.Split(path, ".")
	if len(segs) < 2 || segs[0] != "variables" {
		return apperr.Newf(apperr.BadUserInput, "map path %q for file %q must start with \"variables.\"", truncate(path), truncate(file))
	}
	v, set, ok := locate(vars, segs[1:])
	switch {
	case !ok:
		return apperr.Newf(apperr.BadUserInput, "map path %q for file %q is not in the operation's variables", truncate(path), truncate(file))
	case v != nil:
		return apperr.Newf(apperr.BadUserInput, "map path %q for file %q must point at a null placeholder", truncate(path), truncate(file))
	}
	rd.path, rd.set = segs[1:], set
	set(rd.upload())
	return nil
}

// locate finds the value at path inside vars (maps by key, lists by
// index) and returns it with a function that replaces it.
func locate(vars map[string]any, path []string) (any, func(any), bool) {
	var node any = vars
	for i, seg := range path {
		var v any
		var set func(any)
		switch n := node.(type) {
		case map[string]any:
			got, ok := n[seg]
			if !ok {
				return nil, nil, false
			}
			v, set = got, func(x any) { n[seg] = x }
		case []any:
			idx, err := strconv.Atoi(seg)
			if err != nil || idx < 0 || idx >= len(n) || strconv.Itoa(idx) != seg {
				return nil, nil, false
			}
			v, set = n[idx], func(x any) { n[idx] = x }
		default:
			return nil, nil, false
		}
		if i == len(path)-1 {
			return v, set, true
		}
		node = v
	}
	return nil, nil, false
}

func errBadMultipart(detail string) error {
	return apperr.New(apperr.BadUserInput, "malformed multipart request: "+detail)
}

// readError translates a failure to read the body.
func readError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return apperr.Newf(apperr.TooLarge, "the request body is larger than the limit of %d bytes", mbe.Limit)
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae // the body stalled (408 REQUEST_TIMEOUT)
	}
	return errBadMultipart("the body is not valid multipart/form-data or ended early")
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
