package httpapi

import (
	"net/http"

	"github.com/rs/cors"
)

// tusHeaders are the request headers browsers send to the tus and upload routes.
var allowedHeaders = []string{
	"Authorization", "Content-Type", "Accept", "Origin", "X-Requested-With", "X-HTTP-Method-Override",
	"Tus-Resumable", "Upload-Length", "Upload-Offset", "Upload-Metadata", "Upload-Defer-Length", "Upload-Concat",
	"Upload-Checksum", "X-Upload-File-Name", "X-Upload-Tags", "Range", "If-None-Match", "If-Modified-Since", "If-Match",
	// GraphQL clients' CSRF-prevention headers (Apollo).
	"Apollo-Require-Preflight", "X-Apollo-Operation-Name",
}

// exposedHeaders are the response headers browser code may read.
var exposedHeaders = []string{
	"Location", "Upload-Offset", "Upload-Length", "Upload-Metadata", "Upload-Expires", "Upload-Concat",
	"Upload-Defer-Length", "Tus-Version", "Tus-Resumable", "Tus-Max-Size", "Tus-Extension", "Tus-Checksum-Algorithm",
	"ETag", "Content-Range", "Content-Length", "Content-Disposition", "Accept-Ranges", "X-File-Url", "Retry-After",
}

// CORS is the one CORS layer in front of every browser route. Any origin may
// call: browsers upload with public keys or upload IDs, never with secrets
// (the auth layer refuses cross-origin secret keys).
func CORS(next http.Handler) http.Handler {
	return cors.New(cors.Options{
		AllowOriginFunc:  func(string) bool { return true },
		AllowedMethods:   []string{"GET", "HEAD", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"},
		AllowedHeaders:   allowedHeaders,
		ExposedHeaders:   exposedHeaders,
		AllowCredentials: false,
		MaxAge:           86400,
	}).Handler(next)
}
