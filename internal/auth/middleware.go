package auth

import (
	"encoding/base64"
	"net/http"
	"strings"

	"satchel/internal/apperr"
)

// Credential extracts the key from an Authorization header: "Bearer <key>" or
// Basic with user "apikey". present is false when there is no header.
func Credential(r *http.Request) (key string, present bool, err error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false, nil
	}
	scheme, rest, _ := strings.Cut(h, " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(scheme) {
	case "bearer":
		if rest == "" {
			return "", true, ErrUnauthenticated
		}
		return rest, true, nil
	case "basic":
		raw, derr := base64.StdEncoding.DecodeString(rest)
		if derr != nil {
			return "", true, ErrUnauthenticated
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok || user != "apikey" || pass == "" {
			return "", true, ErrUnauthenticated
		}
		return pass, true, nil
	}
	return "", true, ErrUnauthenticated
}

// Middleware authenticates the request's key, if any, and stores the
// principal in the context. A bad key is answered at once with writeErr; no
// key passes through (the route decides whether it needs one).
func (s *Service) Middleware(writeErr func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key, present, err := Credential(r)
			if !present {
				next.ServeHTTP(w, r)
				return
			}
			var p *Principal
			if err == nil {
				p, err = s.Authenticate(r.Context(), key)
			}
			if err == nil && p.Secret() && s.crossOrigin(r) {
				err = apperr.New(apperr.Forbidden, "secret keys must not be used from a browser on another origin; use a public key or an upload ID")
			}
			if err == nil && !OriginAllowed(p.Key.Origins, r.Header.Get("Origin")) {
				err = apperr.New(apperr.Forbidden, "this key is not allowed from this origin")
			}
			if err != nil {
				writeErr(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		})
	}
}
