package httpapi

import (
	"fmt"
	"net/http"
	"runtime/debug"

	"satchel/internal/apperr"
)

// Recover turns a panic in a handler into a 500 with the error payload,
// logged once with its stack; the server stays up and nothing internal
// leaks.
func Recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				apperr.WriteJSON(w, r, apperr.Wrap(fmt.Errorf("panic: %v\n%s", v, debug.Stack())))
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
