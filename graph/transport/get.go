package transport

import (
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	gqltransport "github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"satchel/internal/apperr"
)

// getJSON is gqlgen's GET transport with postJSON's fixes, plus the
// GraphQL-over-HTTP answers it lacks: 400 for a request without a query or
// with parameters that are not UTF-8, 405 for a mutation over GET (gqlgen
// answers 406), and coded errors for variables or extensions that are not
// JSON objects (gqlgen's carry no code).
type getJSON struct {
	gqltransport.GET
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
