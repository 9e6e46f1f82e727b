// Package transport is the HTTP side of Satchel's GraphQL endpoint, in the
// spirit of gqlgen's graphql/handler/transport: the transports (JSON over
// GET and POST with the GraphQL-over-HTTP fixes, the streaming GraphQL
// multipart request), the gate that lets requests without an API key only
// introspect, the limits a document and an operation must keep to, the
// query cache, and the errors written before and while GraphQL runs. It
// knows nothing of Satchel's schema: New serves any executable schema.
package transport

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	gqltransport "github.com/99designs/gqlgen/graphql/handler/transport"

	"satchel/internal/apperr"
)

// New returns the /graphql handler serving es with explicit transports and
// the limits of c. It panics if c is invalid: call c.Validate first when
// the values come from outside.
func New(es graphql.ExecutableSchema, c Config) http.Handler {
	if err := c.Validate(); err != nil {
		panic(err)
	}
	c = c.withDefaults()
	limits := documentLimits{c.docLimits()}
	srv := handler.New(es)
	srv.AddTransport(gqltransport.Options{})
	srv.AddTransport(getJSON{limits: limits})
	srv.AddTransport(postJSON{maxBody: c.MaxBodyBytes})
	multipart := newMultipartForm(c.FileSize, c.MaxUploadSize)
	srv.AddTransport(multipart)
	srv.SetQueryCache(newQueryCache(c.QueryCacheBytes))
	srv.SetValidationRulesFn(validationRules(c.MaxErrors))
	// Before APQ: a query is checked before it is cached under its hash,
	// so a query that APQ restores from its hash was checked once.
	srv.Use(limits)
	if c.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.Use(textCheck{})
	srv.Use(depthLimit{max: c.DepthLimit})
	srv.Use(&complexityLimit{authenticated: c.ComplexityLimit, anonymous: c.AnonymousComplexityLimit})
	// A client that hung up gets no more resolvers run for it.
	srv.AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return next(ctx)
	})
	srv.SetErrorPresenter(presenter)
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		// The presenter logs it, once, with the request's ID.
		return apperr.Wrap(fmt.Errorf("graphql panic: %v\n%s", v, debug.Stack()))
	})
	capped := http.MaxBytesHandler(srv, c.MaxBodyBytes)
	h := anonymousGate(c.MaxBodyBytes, limits, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if multipart.Supports(req) {
			// File uploads stream: the multipart transport bounds the body
			// itself (its JSON parts, each file and the whole).
			srv.ServeHTTP(w, req)
			return
		}
		capped.ServeHTTP(w, req)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodPost, http.MethodOptions:
			h.ServeHTTP(w, r)
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			WriteError(w, r, apperr.New(apperr.MethodNotAllowed, "GraphQL takes GET and POST requests"))
		}
	})
}
