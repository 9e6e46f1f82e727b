// Package graph is Satchel's GraphQL edge: the gqlgen schema, thin
// resolvers over the use cases, their dataloaders and conversions, and
// NewHandler, which serves them through package transport (the HTTP
// transports, limits and error presenter).
package graph

//go:generate go tool gqlgen generate

import (
	"log/slog"

	"satchel/internal/auth"
	"satchel/internal/images"
	"satchel/internal/uploads"
)

// Resolver holds the dependencies of every resolver.
type Resolver struct {
	Uploads *uploads.Service
	Auth    *auth.Service
	Images  *images.Service
	Log     *slog.Logger
}
