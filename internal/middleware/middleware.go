// Package middleware holds the HTTP layers in front of every edge: recovery
// from panics, the path check, the CORS policy and the bounds on request
// bodies. The wiring root (package app) stacks them.
package middleware

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
