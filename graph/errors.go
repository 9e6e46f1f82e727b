package graph

import (
	"context"
	"encoding/json"
	"net/http"

	"satchel/internal/apperr"
	"satchel/internal/reqlog"
)

// WriteError answers a request refused before GraphQL runs (authentication,
// method, malformed parameters) in the GraphQL response shape, with the
// HTTP status of the error. An INTERNAL error is logged once, with its cause
// and the request's ID, which the answer carries.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	apperr.Log(r.Context(), err, "method", r.Method, "path", r.URL.Path)
	e := apperr.From(err)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.Status())
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message": e.Message, "extensions": extensions(r.Context(), e.Code),
	}}})
}

// extensions are an error's extensions: its code, and for an INTERNAL error
// the request's ID, to match the log line.
func extensions(ctx context.Context, code string) map[string]any {
	ext := map[string]any{"code": code}
	if id := reqlog.ID(ctx); id != "" && code == apperr.Internal {
		ext["requestId"] = id
	}
	return ext
}
