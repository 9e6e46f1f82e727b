package transport

import (
	"io"
	"math"
	"mime"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"

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
