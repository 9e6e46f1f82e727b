package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"unicode"
	"unicode/utf8"

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

// CleanPaths refuses a request whose path, once decoded, holds a control
// character (NUL included) or invalid UTF-8, or whose query holds a NUL or
// invalid UTF-8: 400, before any route sees it. (Queries may hold line
// breaks: GraphQL documents sent with GET do.)
func CleanPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !cleanPath(r.URL.Path) || !cleanQuery(r.URL.RawQuery) {
			apperr.WriteJSON(w, r, apperr.New(apperr.BadUserInput, "the request path or query holds a NUL byte, a control character or invalid UTF-8"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func cleanPath(p string) bool {
	return utf8.ValidString(p) && !strings.ContainsFunc(p, unicode.IsControl)
}

func cleanQuery(raw string) bool {
	q, err := url.QueryUnescape(raw)
	if err != nil {
		q = raw // malformed escapes are the route's to refuse
	}
	return utf8.ValidString(q) && !strings.ContainsRune(q, 0)
}
