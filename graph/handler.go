package graph

import (
	"net/http"

	"satchel/graph/transport"
)

// NewHandler is the /graphql handler: Satchel's schema over r behind the
// transports and limits of c (package transport). Each request gets its
// own dataloaders, and each file of a GraphQL multipart request is bounded
// by r.Uploads' size rule as it streams in. It panics if c is invalid:
// call c.Validate first when the values come from outside.
func NewHandler(r *Resolver, c transport.Config) http.Handler {
	if r.Uploads != nil {
		c.FileSize, c.MaxUploadSize = r.Uploads, r.Uploads.MaxUploadSize
	}
	es := NewExecutableSchema(Config{Resolvers: r, Complexity: complexityFuncs()})
	return withLoaders(r.Images, transport.New(es, c))
}
