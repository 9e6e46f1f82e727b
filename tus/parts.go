package tus

import (
	"fmt"
	"net/http"

	"satchel/internal/apperr"
)

// putPart takes a multipart part's bytes in one request and answers its ETag.
func (h *Handler) putPart(w http.ResponseWriter, r *http.Request, id string) {
	etag, err := h.uploads.PutPart(r.Context(), id, r.ContentLength, r.Body)
	if err != nil {
		apperr.WriteJSON(w, r, err)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "{\"etag\":%q}\n", etag)
}
