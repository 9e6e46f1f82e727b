package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	gqltransport "github.com/99designs/gqlgen/graphql/handler/transport"

	"satchel/internal/apperr"
)

// postJSON is gqlgen's POST transport with what the GraphQL-over-HTTP spec
// asks beyond it: a body over the limit answers 413 TOO_LARGE (gqlgen
// answers 200 with an uncoded error); a body that is not a well-formed
// request (not a JSON object, no query, a parameter of the wrong type)
// answers 400 BAD_USER_INPUT without echoing the body; parse and
// validation errors answer 200 for application/json (gqlgen answers 422;
// application/graphql-response+json keeps its 400); and a request that
// fails before execution has no "data" entry (gqlgen sends "data": null).
type postJSON struct {
	gqltransport.POST
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
