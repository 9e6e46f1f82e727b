package middleware

import (
	"net/http"
	"strings"

	"github.com/rs/cors"
)

// tusHeaders are the request headers browsers send to the tus and upload routes.
var allowedHeaders = []string{
	"Authorization", "Content-Type", "Accept", "Origin", "X-Requested-With", "X-HTTP-Method-Override",
	"Tus-Resumable", "Upload-Length", "Upload-Offset", "Upload-Metadata", "Upload-Defer-Length", "Upload-Concat",
	"Upload-Checksum", "X-Upload-File-Name", "X-Upload-Tags", "X-Request-Id",
	"Range", "If-None-Match", "If-Modified-Since", "If-Match",
	// GraphQL clients' CSRF-prevention headers (Apollo).
	"Apollo-Require-Preflight", "X-Apollo-Operation-Name",
}

// exposedHeaders are the response headers browser code may read.
var exposedHeaders = []string{
	"Location", "Upload-Offset", "Upload-Length", "Upload-Metadata", "Upload-Expires", "Upload-Concat",
	"Upload-Defer-Length", "Tus-Version", "Tus-Resumable", "Tus-Max-Size", "Tus-Extension", "Tus-Checksum-Algorithm",
	"ETag", "Content-Range", "Content-Length", "Content-Disposition", "Accept-Ranges", "X-File-Url", "Retry-After",
	"X-Request-Id",
}

// CORS is the one CORS layer, in front of the browser routes (GraphQL, tus,
// uploads and delivery). Any origin may call them: browsers upload with
// public keys or upload IDs, never with secrets (the auth layer refuses
// cross-origin secret keys). The other routes (health, readiness, metrics,
// the playground) get no CORS headers, so no page on another origin can
// read them.
func CORS(next http.Handler) http.Handler {
	c := cors.New(cors.Options{
		AllowOriginFunc:  func(string) bool { return true },
		AllowedMethods:   []string{"GET", "HEAD", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"},
		AllowedHeaders:   allowedHeaders,
		ExposedHeaders:   exposedHeaders,
		AllowCredentials: false,
		MaxAge:           86400,
	}).Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if browserRoute(r.URL.Path) {
			c.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// browserRoute reports whether path is one of the routes pages call.
func browserRoute(path string) bool {
	return path == "/graphql" || path == "/uploads" || strings.HasPrefix(path, "/uploads/") || strings.HasPrefix(path, "/files/")
}
