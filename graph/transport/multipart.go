package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"satchel/internal/apperr"
	"satchel/internal/auth"
)

// Limits of a GraphQL multipart request.
const (
	// multipartMaxFiles is the most files (and map paths) one request may
	// carry.
	multipartMaxFiles = 10
	// multipartMaxJSON bounds the operations and the map part, each.
	multipartMaxJSON = 1 << 20
	// multipartSlack covers part headers and boundaries in the body cap.
	multipartSlack = 1 << 20
)

// SizeRule is what the multipart transport needs of the upload service:
// whether a file of size bytes is over the principal's limit (the
// server's, narrowed by the key's).
type SizeRule interface {
	CheckSize(p *auth.Principal, size int64) error
}

// multipartForm is the GraphQL multipart request transport
// (https://github.com/jaydenseric/graphql-multipart-request-spec). Unlike
// gqlgen's transport.MultipartForm it never holds a file in memory or on a
// temporary disk: the operation runs while the body streams in, and each
// Upload's File reads its part straight off the request.
//
// The body must be: an "operations" part (one operation as a JSON object;
// batches are refused), a "map" part (a JSON object from file field name to
// object paths such as "variables.file", each pointing at a null
// placeholder), then the file parts. Everything up to the first file part
// is checked before the operation runs.
//
// Streaming has two consequences for resolvers. A file can be read only
// once, by the first Upload that reads it, and only in the order the parts
// arrive: reading a later file skips (discards) the earlier ones, whose
// readers then fail. Mutation fields run one after another, so an operation
// that uses its files in the order the client sent them (as every spec
// client does) just works.
//
// Errors of the request itself (malformed multipart, bad operations or map,
// a part the map does not name or names twice, a mapped file that never
// comes, too many files, a file over the size limit) answer a 4xx with a
// coded GraphQL error and no data, whenever they are found. A file reader
// ends (io.EOF) only once the next part's header, or the end of the body,
// has been read and checked, so such an error found later cannot follow a
// stored file. Errors of the operation are ordinary GraphQL errors.
type multipartForm struct {
	sizes     SizeRule // nil: no per-file limit
	maxUpload int64    // the server's largest file, 0 for none: sets the body cap
	maxFiles  int
	maxJSON   int64
}

var _ graphql.Transport = multipartForm{}

func newMultipartForm(sizes SizeRule, maxUpload int64) multipartForm {
	return multipartForm{sizes: sizes, maxUpload: maxUpload, maxFiles: multipartMaxFiles, maxJSON: multipartMaxJSON}
}

// Supports reports whether r is a multipart POST. Such a request is exempt
// from the handler's body cap: the transport bounds it itself.
func (m multipartForm) Supports(r *http.Request) bool {
	if r.Method != http.MethodPost || r.Header.Get("Upgrade") != "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// bodyCap is the largest body a request may send: every file at the
// server's limit, plus the JSON parts and the framing. 0 means no cap.
func (m multipartForm) bodyCap() int64 {
	if m.maxUpload <= 0 || m.maxUpload > (math.MaxInt64-2*m.maxJSON-multipartSlack)/int64(m.maxFiles) {
		return 0
	}
	return int64(m.maxFiles)*m.maxUpload + 2*m.maxJSON + multipartSlack
}

func (m multipartForm) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	start := graphql.Now()
	// CSRF: a form on another site can post multipart/form-data without a
	// preflight, but cannot set Authorization. The key in that header (the
	// only place the authentication middleware reads keys from) is what
	// makes the request non-simple, so it is required whatever the
	// operation, before the body is read.
	p := auth.FromContext(ctx)
	if p == nil || r.Header.Get("Authorization") == "" {
		WriteError(w, r, auth.ErrUnauthenticated)
		return
	}
	body := r.Body
	if c := m.bodyCap(); c > 0 {
		if r.ContentLength > c {
			w.Header().Set("Connection", "close")
			WriteError(w, r, apperr.Newf(apperr.TooLarge, "the request body is larger than the limit of %d bytes", c))
			return
		}
		body = http.MaxBytesReader(w, r.Body, c)
	}
	s, params, err := m.open(r, body, p)
	if err != nil {
		m.refuse(w, r, body, err)
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	rc, gerrs := exec.CreateOperationContext(ctx, params)
	if gerrs != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, rc), gerrs)
		if err := s.finish(); err != nil {
			m.refuse(w, r, body, err)
			return
		}
		drain(body)
		status := http.StatusOK
		if errcode.GetErrorKind(gerrs) == errcode.KindProtocol {
			// Multipart is outside GraphQL-over-HTTP; like Apollo Server,
			// a request refused before execution answers 400.
			status = http.StatusBadRequest
		}
		writeResponse(w, r, status, &graphql.Response{Errors: resp.Errors, Extensions: resp.Extensions}, false)
		return
	}
	s.rebind(rc.Variables)
	responses, ctx := exec.DispatchOperation(ctx, rc)
	resp := responses(ctx)
	if err := s.finish(); err != nil {
		m.refuse(w, r, body, err)
		return
	}
	drain(body)
	writeResponse(w, r, http.StatusOK, resp, true)
}

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

// refuse answers a request error. The rest of the body is read first
// (within the body cap) so that a client still sending it gets the answer,
// except after TOO_LARGE, where the connection is closed instead.
func (m multipartForm) refuse(w http.ResponseWriter, r *http.Request, body io.Reader, err error) {
	if apperr.CodeOf(err) == apperr.TooLarge {
		w.Header().Set("Connection", "close")
	} else {
		drain(body)
	}
	WriteError(w, r, err)
}

func drain(body io.Reader) { _, _ = io.Copy(io.Discard, body) }

// writeResponse writes a GraphQL response as JSON, in the media type the
// client prefers of application/graphql-response+json and application/json.
func writeResponse(w http.ResponseWriter, r *http.Request, status int, resp *graphql.Response, withData bool) {
	var out any = resp
	if !withData {
		out = struct {
			Errors     gqlerror.List  `json:"errors,omitempty"`
			Extensions map[string]any `json:"extensions,omitempty"`
		}{resp.Errors, resp.Extensions}
	}
	b, err := json.Marshal(out)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", responseType(r)+"; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func responseType(r *http.Request) string {
	for _, a := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(a))
		if err != nil {
			continue
		}
		switch mt {
		case "application/graphql-response+json":
			return mt
		case "application/json", "application/*", "*/*":
			return "application/json"
		}
	}
	return "application/json"
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

// partStream hands the file parts of one request to their uploadReaders,
// in the order they arrive.
type partStream struct {
	mu    sync.Mutex
	mr    *multipart.Reader
	files map[string]*streamFile // by field name, as mapped
	order []*streamFile
	check func(n int64) error // per-file size rule; nil: none

	cur  *multipart.Part // the part at the head of the stream
	curF *streamFile
	curN int64 // bytes of cur read so far
	// err is the request's error, once one is found: it fails every later
	// read and the response.
	err    error
	ended  bool // the closing boundary was read
	closed bool // the operation is over
}

type fileState int

const (
	fileWaiting fileState = iota // its part has not arrived
	fileCurrent                  // its part is at the head of the stream
	fileRead                     // read to the end
	fileSkipped                  // discarded: it was not read in order
)

type streamFile struct {
	name    string
	state   fileState
	readers []*uploadReader // one per map path
	owner   *uploadReader   // the reader that read it first
	// From the part's header, once it arrived.
	filename, contentType string
}

// rebind points the readers at the operation's coerced variables (a copy
// of the top level of the request's), so that the Uploads gain their
// part's file name and type when its header arrives.
func (s *partStream) rebind(vars map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.order {
		for _, rd := range f.readers {
			rd.set = nil
			v, set, ok := locate(vars, rd.path)
			if up, isUpload := v.(graphql.Upload); ok && isUpload && up.File == io.ReadSeeker(rd) {
				rd.set = set
				set(rd.upload())
			}
		}
	}
}

func (s *partStream) fail(err error) error {
	if s.err == nil {
		s.err = err
	}
	return s.err
}

// start reads the first file part's header.
func (s *partStream) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.advance()
}

// advance moves to the next part, checking its header, or to the end of
// the body, checking that every mapped file came.
func (s *partStream) advance() error {
	s.cur, s.curF, s.curN = nil, nil, 0
	p, err := s.mr.NextPart()
	if err == io.EOF {
		s.ended = true
		for _, f := range s.order {
			if f.state == fileWaiting {
				return s.fail(apperr.Newf(apperr.BadUserInput, "the map names file %q but the request has no such part", truncate(f.name)))
			}
		}
		return nil
	}
	if err != nil {
		return s.fail(readError(err))
	}
	name := p.FormName()
	f, ok := s.files[name]
	switch {
	case !ok:
		return s.fail(apperr.Newf(apperr.BadUserInput, "part %q is not a file the map names", truncate(name)))
	case f.state != fileWaiting:
		return s.fail(apperr.Newf(apperr.BadUserInput, "part %q comes more than once", truncate(name)))
	}
	f.state = fileCurrent
	f.filename, f.contentType = p.FileName(), p.Header.Get("Content-Type")
	for _, rd := range f.readers {
		if rd.set != nil {
			rd.set(rd.upload())
		}
	}
	s.cur, s.curF = p, f
	return nil
}

// readCur reads the current part, applying the size rule.
func (s *partStream) readCur(b []byte) (int, error) {
	n, err := s.cur.Read(b)
	s.curN += int64(n)
	if s.check != nil {
		if cerr := s.check(s.curN); cerr != nil {
			return n, s.fail(cerr)
		}
	}
	if err != nil && err != io.EOF {
		return n, s.fail(readError(err))
	}
	return n, err
}

// skip discards the rest of the current part and moves to the next.
func (s *partStream) skip(state fileState) error {
	buf := make([]byte, 32<<10)
	for {
		_, err := s.readCur(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	s.curF.state = state
	return s.advance()
}

func (s *partStream) read(u *uploadReader, b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, s.err
	}
	f := u.file
	if f.owner != nil && f.owner != u {
		return 0, u.failure(apperr.Newf(apperr.BadUserInput, "file %q is used at more than one path: a streamed file can be read only once", truncate(f.name)))
	}
	if s.closed {
		return 0, u.failure(apperr.New(apperr.BadUserInput, "the request is over: its files can no longer be read"))
	}
	for f.state == fileWaiting && s.cur != nil {
		// A later file is wanted: the ones before it can never be read.
		if err := s.skip(fileSkipped); err != nil {
			return 0, err
		}
	}
	switch {
	case f.state == fileRead && f.owner == u:
		return 0, io.EOF
	case f.state != fileCurrent:
		return 0, u.failure(apperr.Newf(apperr.BadUserInput, "file %q was discarded: the operation must read the files in the order they are sent", truncate(f.name)))
	}
	f.owner = u
	n, err := s.readCur(b)
	u.off += int64(n)
	if err == io.EOF {
		f.state = fileRead
		// Report the end only once what follows is known to be sound.
		if aerr := s.advance(); aerr != nil {
			return n, aerr
		}
	}
	return n, err
}

// finish ends the operation: the parts nobody read are discarded and the
// rest of the body is checked. It returns the request's error, if any.
func (s *partStream) finish() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for s.err == nil && !s.ended && s.cur != nil {
		if err := s.skip(fileSkipped); err != nil {
			break
		}
	}
	return s.err
}

// uploadReader is the File of a streamed graphql.Upload: it reads the
// file's part as the request body arrives, so the bytes are never held.
//
// graphql.Upload wants an io.ReadSeeker, but a stream cannot go back: Seek
// succeeds only when it is a no-op (to the current offset, as io.Copy-style
// callers and size probes do with Seek(0, io.SeekCurrent)) and fails
// otherwise. Callers must read the file once, from the start.
type uploadReader struct {
	s    *partStream
	file *streamFile
	path []string  // in the variables
	set  func(any) // replaces its Upload in the variables
	off  int64
	err  error // the last error that concerned this reader alone
}

// upload is the reader's Upload, with what is known of its part. The size
// is never known before the part has been read: -1.
func (u *uploadReader) upload() graphql.Upload {
	return graphql.Upload{File: u, Filename: u.file.filename, ContentType: u.file.contentType, Size: -1}
}

var _ io.ReadSeeker = (*uploadReader)(nil)

// errNotSeekable is returned by uploadReader.Seek for any real move.
var errNotSeekable = errors.New("graphql upload: a streamed file cannot seek")

func (u *uploadReader) Read(b []byte) (int, error) { return u.s.read(u, b) }

func (u *uploadReader) Seek(offset int64, whence int) (int64, error) {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	if (whence == io.SeekCurrent && offset == 0) || (whence == io.SeekStart && offset == u.off) {
		return u.off, nil
	}
	return u.off, errNotSeekable
}

func (u *uploadReader) failure(err error) error {
	u.err = err
	return err
}

// UploadError is the client-facing reason a read of an Upload's File
// failed, when the multipart transport knows one: resolvers return it in
// place of a generic "could not read" error. It is nil for other readers.
func UploadError(f io.Reader) error {
	u, ok := f.(*uploadReader)
	if !ok {
		return nil
	}
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	if u.s.err != nil {
		return u.s.err
	}
	return u.err
}
