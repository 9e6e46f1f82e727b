package graph

import (
	"encoding/json"
	"net/http"

	"satchel/internal/apperr"
)

// WriteError answers a request refused before GraphQL runs (authentication,
// method, malformed parameters) in the GraphQL response shape, with the
// HTTP status of the error.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := apperr.From(err)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.Status())
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message": e.Message, "extensions": map[string]string{"code": e.Code},
	}}})
}
