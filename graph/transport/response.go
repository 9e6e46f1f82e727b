package transport

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

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
