package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"satchel/internal/apperr"
	"satchel/internal/auth"
)

// anonymousGate answers requests without an API key with 401, except
// operations that only introspect the schema, so that the playground and
// code generators can load it before a key is entered. A body over maxBody
// answers 413. The document is parsed only within the limits; one over
// them goes on to the handler, which refuses it before parsing it.
func anonymousGate(maxBody int64, limits documentLimits, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if auth.FromContext(r.Context()) != nil || r.Method == http.MethodOptions || !isGraphQLMethod(r.Method) {
			next.ServeHTTP(w, r)
			return
		}
		query, ok, err := peekQuery(w, r, maxBody)
		var ae *apperr.Error
		switch {
		case errors.As(err, &ae):
			WriteError(w, r, ae) // the body stalled (408)
			return
		case err != nil:
			tooLarge(w, r, maxBody)
			return
		}
		if ok && (limits.check(query) != nil || introspectionOnly(query)) {
			next.ServeHTTP(w, r)
			return
		}
		WriteError(w, r, auth.ErrUnauthenticated)
	})
}

func isGraphQLMethod(m string) bool { return m == http.MethodGet || m == http.MethodPost }

// peekQuery reads the query text of a GET or JSON POST request, leaving the
// body readable for the handler. The error is the body's being over
// maxBody.
func peekQuery(w http.ResponseWriter, r *http.Request, maxBody int64) (string, bool, error) {
	if r.Method == http.MethodGet {
		return r.URL.Query().Get("query"), true, nil
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		return "", false, nil
	}
	if r.ContentLength > maxBody {
		return "", false, &http.MaxBytesError{Limit: maxBody}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var mbe *http.MaxBytesError
	var ae *apperr.Error
	if errors.As(err, &mbe) || errors.As(err, &ae) {
		return "", false, err
	}
	if err != nil {
		return "", false, nil
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var p struct {
		Query string `json:"query"`
	}
	if json.Unmarshal(body, &p) != nil {
		return "", false, nil
	}
	return p.Query, true, nil
}

// introspectionOnly reports whether every operation in query selects only
// __schema, __type and __typename at its root. Each fragment is checked
// once, however often it is spread.
func introspectionOnly(query string) bool {
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil || len(doc.Operations) == 0 {
		return false
	}
	checked := map[string]bool{}
	var ok func(set ast.SelectionSet) bool
	ok = func(set ast.SelectionSet) bool {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if !strings.HasPrefix(s.Name, "__") {
					return false
				}
			case *ast.InlineFragment:
				if !ok(s.SelectionSet) {
					return false
				}
			case *ast.FragmentSpread:
				if checked[s.Name] {
					continue // checked, or being checked (a cycle validation refuses)
				}
				checked[s.Name] = true
				f := doc.Fragments.ForName(s.Name)
				if f == nil || !ok(f.SelectionSet) {
					return false
				}
			}
		}
		return true
	}
	for _, op := range doc.Operations {
		if op.Operation != ast.Query || !ok(op.SelectionSet) {
			return false
		}
	}
	return true
}
