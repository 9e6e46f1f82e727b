package graph

import (
	"encoding/json"
	"net/http"

	"satchel/internal/apperr"
)

// WriteAuthError answers an authentication failure on /graphql in the
// GraphQL response shape, with the HTTP status of the error.
func WriteAuthError(w http.ResponseWriter, r *http.Request, err error) {
	e := apperr.From(err)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.Status())
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message": e.Message, "extensions": map[string]string{"code": e.Code},
	}}})
}
