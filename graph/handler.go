package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"satchel/internal/apperr"
)

// NewHandler builds the /graphql handler with explicit transports and the
// limits of o. It panics if o is invalid: call o.Validate first when the
// values come from outside.
func NewHandler(r *Resolver, o Options) http.Handler {
	if err := o.Validate(); err != nil {
		panic(err)
	}
	o = o.withDefaults()
	limits := documentLimits{o.docLimits()}
	srv := handler.New(NewExecutableSchema(Config{Resolvers: r, Complexity: complexityFuncs()}))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(getJSON{limits: limits})
	srv.AddTransport(postJSON{maxBody: o.MaxBodyBytes})
	multipart := newMultipartForm(r)
	srv.AddTransport(multipart)
	srv.SetQueryCache(newQueryCache(o.QueryCacheBytes))
	srv.SetValidationRulesFn(validationRules(o.MaxErrors))
	// Before APQ: a query is checked before it is cached under its hash,
	// so a query that APQ restores from its hash was checked once.
	srv.Use(limits)
	if o.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.Use(textCheck{})
	srv.Use(depthLimit{max: o.DepthLimit})
	srv.Use(&complexityLimit{authenticated: o.ComplexityLimit, anonymous: o.AnonymousComplexityLimit})
	// A client that hung up gets no more resolvers run for it.
	srv.AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return next(ctx)
	})
	srv.SetErrorPresenter(presenter)
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		// The presenter logs it, once, with the request's ID.
		return apperr.Wrap(fmt.Errorf("graphql panic: %v\n%s", v, debug.Stack()))
	})
	// Each request gets its own dataloaders.
	loaded := withLoaders(r.Images, srv)
	capped := http.MaxBytesHandler(loaded, o.MaxBodyBytes)
	h := anonymousGate(o.MaxBodyBytes, limits, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if multipart.Supports(req) {
			// File uploads stream: the multipart transport bounds the body
			// itself (its JSON parts, each file and the whole).
			loaded.ServeHTTP(w, req)
			return
		}
		capped.ServeHTTP(w, req)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodPost, http.MethodOptions:
			h.ServeHTTP(w, r)
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			WriteError(w, r, apperr.New(apperr.MethodNotAllowed, "GraphQL takes GET and POST requests"))
		}
	})
}

// Operations refused before they run (BAD_USER_INPUT from the limits and
// the text check) are request errors: 400 for
// application/graphql-response+json, like parse and validation errors.
// Resolver errors are not affected.
func init() { errcode.RegisterErrorType(apperr.BadUserInput, errcode.KindProtocol) }

// presenter gives every error an extensions.code and hides internals.
func presenter(ctx context.Context, err error) *gqlerror.Error {
	var ae *apperr.Error
	if errors.As(err, &ae) && ae.Code != apperr.Internal {
		e := graphql.DefaultErrorPresenter(ctx, err)
		e.Message = ae.Message
		e.Extensions = map[string]any{"code": ae.Code}
		return e
	}
	var ge *gqlerror.Error
	if ae == nil && errors.As(err, &ge) && ge.Err == nil {
		// gqlgen's own parse and validation errors (a resolver's error
		// arrives wrapped, with Err set). Input coercion of our custom
		// scalars answers apperr errors (package scalars).
		if ge.Extensions == nil {
			ge.Extensions = map[string]any{}
		}
		if _, ok := ge.Extensions["code"]; !ok {
			ge.Extensions["code"] = apperr.BadUserInput
		}
		return ge
	}
	e := graphql.DefaultErrorPresenter(ctx, err)
	if ctx.Err() != nil {
		// The client hung up: nobody will read this, nothing failed.
		e.Message = "the request was cancelled"
		e.Extensions = map[string]any{"code": apperr.Internal}
		return e
	}
	// Logged once, with its cause and the request's ID; the client gets
	// the ID and nothing of the cause.
	apperr.Log(ctx, err, "path", graphql.GetPath(ctx).String())
	e.Message = "internal server error"
	e.Extensions = extensions(ctx, apperr.Internal)
	return e
}

// postJSON is gqlgen's POST transport with what the GraphQL-over-HTTP spec
// asks beyond it: a body over the limit answers 413 TOO_LARGE (gqlgen
// answers 200 with an uncoded error); a body that is not a well-formed
// request (not a JSON object, no query, a parameter of the wrong type)
// answers 400 BAD_USER_INPUT without echoing the body; parse and
// validation errors answer 200 for application/json (gqlgen answers 422;
// application/graphql-response+json keeps its 400); and a request that
// fails before execution has no "data" entry (gqlgen sends "data": null).
type postJSON struct {
	transport.POST
	maxBody int64
}

func (p postJSON) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	if r.ContentLength > p.maxBody {
		tooLarge(w, r, p.maxBody)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, p.maxBody))
	var mbe *http.MaxBytesError
	var ae *apperr.Error
	switch {
	case errors.As(err, &mbe):
		tooLarge(w, r, p.maxBody)
		return
	case errors.As(err, &ae):
		WriteError(w, r, ae) // the body stalled (408)
		return
	case err != nil:
		WriteError(w, r, apperr.New(apperr.BadUserInput, "the request body could not be read"))
		return
	}
	if err := checkParams(body); err != nil {
		WriteError(w, r, err)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	fw := &preExecFix{ResponseWriter: w}
	p.POST.Do(fw, r, exec)
	fw.flush()
}

func tooLarge(w http.ResponseWriter, r *http.Request, limit int64) {
	// The rest of the body is not read: the connection cannot be reused.
	w.Header().Set("Connection", "close")
	WriteError(w, r, apperr.Newf(apperr.TooLarge, "the request body is larger than the limit of %d bytes", limit))
}

// checkParams checks that body is a GraphQL-over-HTTP request: UTF-8 (JSON
// decoding would silently turn other bytes into U+FFFD), a JSON object
// whose query is a string (it may be absent when extensions.persistedQuery
// names a query by its hash), operationName a string, variables and
// extensions objects (each may be null or absent).
func checkParams(body []byte) error {
	if !utf8.Valid(body) {
		return apperr.New(apperr.BadUserInput, "the body is not UTF-8")
	}
	var p struct {
		Query, OperationName, Variables, Extensions json.RawMessage
	}
	if json.Unmarshal(body, &p) != nil || !isJSON(body, '{') {
		return apperr.New(apperr.BadUserInput, `the body must be a JSON object {"query", "operationName", "variables", "extensions"}`)
	}
	for _, f := range []struct {
		name string
		v    json.RawMessage
		kind byte
	}{{"query", p.Query, '"'}, {"operationName", p.OperationName, '"'}, {"variables", p.Variables, '{'}, {"extensions", p.Extensions, '{'}} {
		if len(f.v) > 0 && string(f.v) != "null" && !isJSON(f.v, f.kind) {
			what := "a string"
			if f.kind == '{' {
				what = "a JSON object"
			}
			return apperr.Newf(apperr.BadUserInput, "%s must be %s", f.name, what)
		}
	}
	if len(p.Query) == 0 || string(p.Query) == "null" {
		var ext struct{ PersistedQuery json.RawMessage }
		if json.Unmarshal(p.Extensions, &ext) != nil || len(ext.PersistedQuery) == 0 || string(ext.PersistedQuery) == "null" {
			return apperr.New(apperr.BadUserInput, "the request has no query")
		}
	}
	return nil
}

// isJSON reports whether the JSON value v starts with c.
func isJSON(v []byte, c byte) bool {
	v = bytes.TrimLeft(v, " \t\r\n")
	return len(v) > 0 && v[0] == c
}

// getJSON is gqlgen's GET transport with postJSON's fixes, plus the
// GraphQL-over-HTTP answers it lacks: 400 for a request without a query or
// with parameters that are not UTF-8, 405 for a mutation over GET (gqlgen
// answers 406), and coded errors for variables or extensions that are not
// JSON objects (gqlgen's carry no code).
type getJSON struct {
	transport.GET
	limits documentLimits
}

func (g getJSON) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	q := r.URL.Query()
	for _, k := range []string{"query", "operationName", "variables", "extensions"} {
		if !utf8.ValidString(q.Get(k)) {
			WriteError(w, r, apperr.Newf(apperr.BadUserInput, "%s is not UTF-8", k))
			return
		}
	}
	for _, k := range []string{"variables", "extensions"} {
		var m map[string]any
		if v := q.Get(k); v != "" && json.Unmarshal([]byte(v), &m) != nil {
			WriteError(w, r, apperr.Newf(apperr.BadUserInput, "%s must be a JSON object", k))
			return
		}
	}
	query := q.Get("query")
	if query == "" && !strings.Contains(q.Get("extensions"), "persistedQuery") {
		WriteError(w, r, apperr.New(apperr.BadUserInput, "the request has no query"))
		return
	}
	// Only a document within the limits is parsed here; gqlgen refuses
	// the others before parsing them.
	if g.limits.check(query) == nil {
		if doc, err := parser.ParseQuery(&ast.Source{Input: query}); err == nil {
			if op := doc.Operations.ForName(q.Get("operationName")); op != nil && op.Operation != ast.Query {
				w.Header().Set("Allow", "POST")
				WriteError(w, r, apperr.New(apperr.MethodNotAllowed, "GET requests only allow query operations; use POST"))
				return
			}
		}
	}
	fw := &preExecFix{ResponseWriter: w}
	g.GET.Do(fw, r, exec)
	fw.flush()
}

// preExecFix holds back the body of a pre-execution error response (status
// 400 or 422 from gqlgen) to drop its "data" entry. Other responses pass
// through untouched.
type preExecFix struct {
	http.ResponseWriter
	status int
	held   bool
	buf    bytes.Buffer
}

func (f *preExecFix) WriteHeader(code int) {
	if code == http.StatusUnprocessableEntity || code == http.StatusBadRequest {
		f.held = true
	}
	if code == http.StatusUnprocessableEntity {
		code = http.StatusOK
	}
	f.status = code
	if !f.held {
		f.ResponseWriter.WriteHeader(code)
	}
}

func (f *preExecFix) Write(b []byte) (int, error) {
	if f.held {
		return f.buf.Write(b)
	}
	return f.ResponseWriter.Write(b)
}

func (f *preExecFix) flush() {
	if !f.held {
		return
	}
	body := f.buf.Bytes()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err == nil {
		if d, ok := m["data"]; ok && string(d) == "null" {
			delete(m, "data")
			if out, err := json.Marshal(m); err == nil {
				body = append(out, '\n')
			}
		}
	}
	f.ResponseWriter.Header().Del("Content-Length")
	f.ResponseWriter.WriteHeader(f.status)
	f.ResponseWriter.Write(body)
}

func (f *preExecFix) Unwrap() http.ResponseWriter { return f.ResponseWriter }
