package app

import (
	"fmt"
	"net/http"

	"satchel/graph"
	"satchel/graph/transport"
	"satchel/internal/apperr"
	"satchel/internal/middleware"
	"satchel/internal/playground"
	"satchel/internal/reqlog"
	"satchel/internal/storage"
	"satchel/rest"
	"satchel/tus"
)

// routes builds the one handler: request IDs, recovery, the path check and
// CORS in front of the three edges (GraphQL, tus, REST), the playground and
// the operator's routes.
func (a *App) routes(store *storage.Store, m *metrics) (http.Handler, error) {
	cfg := a.Config
	gopts := transport.Config{
		Introspection: cfg.Introspection, Log: a.log,
		MaxBodyBytes: cfg.GraphQL.MaxBodyBytes, MaxDocumentBytes: int(cfg.GraphQL.MaxDocumentBytes),
		MaxTokens: cfg.GraphQL.MaxTokens, MaxFields: cfg.GraphQL.MaxFields, MaxAliases: cfg.GraphQL.MaxAliases,
		MaxFieldPairs: cfg.GraphQL.MaxFieldPairs, DepthLimit: cfg.GraphQL.MaxDepth,
		ComplexityLimit: cfg.GraphQL.MaxComplexity, AnonymousComplexityLimit: cfg.GraphQL.MaxComplexityAnonymous,
	}
	if err := gopts.Validate(); err != nil {
		return nil, fmt.Errorf("graphql: %w", err)
	}
	gql := graph.NewHandler(&graph.Resolver{Uploads: a.Uploads, Auth: a.Auth, Images: a.Images, Log: a.log}, gopts)
	authMW := a.Auth.Middleware(apperr.WriteJSON)
	gqlAuthMW := a.Auth.Middleware(transport.WriteError)

	mux := http.NewServeMux()
	if cfg.Playground {
		pg, err := playground.New("/graphql")
		if err != nil {
			return nil, err
		}
		pg.Register(mux)
	}
	// Bodies on the routes other than tus: idle and slow ones are cut, and
	// only so many are read at once (tusd bounds its own).
	bodies := &middleware.BodyLimits{Idle: cfg.BodyIdleTimeout, Readers: cfg.MaxBodyReaders}
	mux.Handle("/graphql", bodies.Wrap(gqlAuthMW(gql)))
	tusRoute := tus.Resumable(authMW(a.Tus))
	mux.Handle("/uploads/", tusRoute)
	mux.Handle("/uploads", tusRoute)
	files := http.NewServeMux()
	(&rest.API{Uploads: a.Uploads, Images: a.Images}).Register(files)
	mux.Handle("/files/", bodies.Wrap(authMW(files)))
	(&rest.Ops{
		Registry: m.reg, MetricsToken: cfg.MetricsToken,
		Checks: map[string]rest.Pinger{
			"database": rest.PingFunc(a.DB.PingContext),
			"storage":  store,
		},
	}).Register(mux)
	rest.RegisterFallbacks(mux)
	return reqlog.Middleware(a.log, middleware.Recover(middleware.CleanPaths(middleware.CORS(mux)))), nil
}
