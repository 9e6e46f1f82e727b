package httpapi

import (
	"log/slog"
	"net/http"

	"satchel/internal/apperr"
)

// Recover turns a panic in a handler into a 500 with the error payload; the
// server stays up and nothing internal leaks.
func Recover(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("panic in handler", "panic", v, "path", r.URL.Path)
				apperr.WriteJSON(w, r, apperr.New(apperr.Internal, "internal server error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// RegisterFallbacks answers unknown routes and wrong methods with the JSON
// error payload instead of the mux's plain text.
func RegisterFallbacks(mux *http.ServeMux) {
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		apperr.WriteJSON(w, r, apperr.New(apperr.NotFound, "no such route"))
	})
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			apperr.WriteJSON(w, r, apperr.New(apperr.MethodNotAllowed, "method not allowed on this route"))
		})
	}
}
