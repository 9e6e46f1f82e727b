package auth

import (
	"net/http"
	"net/url"
	"strings"
)

// crossOrigin reports whether a browser sent r from an origin other than the
// server's own: the origin (scheme, host, port) of its public URL. The
// request's Host is not trusted for this: any client can set it.
func (s *Service) crossOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	own, ok := NormalizeOrigin(s.PublicURL)
	if !ok {
		return true
	}
	got, ok := NormalizeOrigin(origin)
	return !ok || got != own
}

// OriginAllowed reports whether a browser request from origin may use a key
// restricted to allowed origins. Requests without an Origin (servers, CLIs)
// and keys without restrictions are always allowed.
func OriginAllowed(allowed []string, origin string) bool {
	if len(allowed) == 0 || origin == "" {
		return true
	}
	got, ok := NormalizeOrigin(origin)
	if !ok {
		return false
	}
	for _, a := range allowed {
		if want, ok := NormalizeOrigin(a); ok && want == got {
			return true
		}
	}
	return false
}

// NormalizeOrigin reduces a URL or an Origin header to scheme://host[:port]
// in lower case, without the scheme's default port. ok is false for
// anything that is not an http(s) origin ("null", opaque or relative URLs).
func NormalizeOrigin(raw string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.User != nil {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" {
		return "", false
	}
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, true
}
