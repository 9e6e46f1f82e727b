package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"satchel/graph/transport"
	"satchel/internal/auth"
	"satchel/internal/db"
	"satchel/internal/ids"
	"satchel/internal/images"
	"satchel/internal/uploads"
	"satchel/migrations"
	"satchel/models"
)

// introspectionQuery is GraphiQL's introspection query (the root
// package's tests and the transport's read it here too).
func introspectionQuery(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// testGraph is Satchel's GraphQL handler over a fresh SQLite database
// holding one account with files, for tests and benchmarks of the GraphQL
// edge alone.
type testGraph struct {
	db       *bun.DB
	account  string
	resolver *Resolver
	handler  http.Handler // from NewHandler, without authentication
}

func newTestGraph(t testing.TB, files int, c transport.Config, hooks ...bun.QueryHook) *testGraph {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, "", t.TempDir()+"/satchel.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := migrations.Run(ctx, d); err != nil {
		t.Fatal(err)
	}
	acc, err := (&auth.Service{DB: d}).CreateAccount(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]*models.File, files)
	now := time.Now().UnixMicro()
	for i := range rows {
		rows[i] = &models.File{ID: ids.New(), AccountID: acc.ID, Name: fmt.Sprintf("f%d.txt", i), Mime: "text/plain",
			Size: int64(i), SHA256: strings.Repeat("0", 64), Tags: []models.Tag{}, UploadedAt: now + int64(i)}
	}
	for len(rows) > 0 {
		n := min(len(rows), 200)
		if err := models.InsertFiles(ctx, d, rows[:n]); err != nil {
			t.Fatal(err)
		}
		rows = rows[n:]
	}
	for _, h := range hooks {
		d.AddQueryHook(h)
	}
	log := slog.New(slog.DiscardHandler)
	if c.Log == nil {
		c.Log = log
	}
	r := &Resolver{Uploads: &uploads.Service{DB: d, Log: log, PublicURL: "http://satchel.test"}, Images: &images.Service{DB: d, Log: log}, Log: log}
	return &testGraph{db: d, account: acc.ID, resolver: r, handler: NewHandler(r, c)}
}

// as is the handler acting for the account's secret key, or for nobody.
func (g *testGraph) as(secret bool) http.Handler { return g.withPrincipal(g.handler, secret) }

// withPrincipal runs h for the account's secret key, or for nobody.
func (g *testGraph) withPrincipal(h http.Handler, secret bool) http.Handler {
	if !secret {
		return h
	}
	p := &auth.Principal{AccountID: g.account, Key: &models.APIKey{Kind: models.KindSecret}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

// post sends query as a JSON POST and returns the status and the body.
func (g *testGraph) post(t testing.TB, secret bool, query string, vars map[string]any) (int, []byte) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/graphql-response+json")
	w := httptest.NewRecorder()
	g.as(secret).ServeHTTP(w, r)
	return w.Code, w.Body.Bytes()
}

type testResponse struct {
	Data   map[string]any `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func decodeResponse(t testing.TB, body []byte) testResponse {
	t.Helper()
	var r testResponse
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("response is not JSON: %.300s", body)
	}
	return r
}

// resolved counts the fields of a response's data: every key of every
// object.
func resolved(v any) int {
	n := 0
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			n += 1 + resolved(e)
		}
	case []any:
		for _, e := range v {
			n += resolved(e)
		}
	}
	return n
}

// The cost of introspection is the number of fields it resolves, exactly:
// what a request without an API key is budgeted by.
func TestIntrospectionCostIsTheFieldsResolved(t *testing.T) {
	g := newTestGraph(t, 0, transport.Config{Introspection: true})
	for _, q := range []string{
		introspectionQuery(t),
		`{ __schema { types { name fields { name args { name type { kind ofType { kind ofType { name } } } } } } } }`,
		`{ a: __type(name: "Mutation") { fields { name type { name } } } b: __type(name: "Nope") { name } __typename }`,
		`{ __type(name: "Fit") { enumValues(includeDeprecated: true) { name } inputFields { name } possibleTypes { name } interfaces { name } ofType { name } } }`,
		`{ __schema { directives { name locations args { name type { name kind } } } queryType { ...T } mutationType { ...T } subscriptionType { ...T } } } fragment T on __Type { name ... on __Type { kind } }`,
	} {
		status, body := g.post(t, false, q, nil)
		r := decodeResponse(t, body)
		if status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("%d %.300s", status, body)
		}
		want := resolved(map[string]any(r.Data))
		if got := costOf(t, q, nil); got != want {
			t.Errorf("cost %d, but %d fields resolved: %.80s", got, want, q)
		}
	}
}

// Introspection is exempt from the depth limit (GraphiQL's query nests 15
// levels); the data is not.
func TestDepthLimit(t *testing.T) {
	g := newTestGraph(t, 1, transport.Config{Introspection: true, DepthLimit: 3})
	for _, tc := range []struct {
		query string
		ok    bool
	}{
		{`{ files { edges { cursor } } }`, true},
		{`{ files { edges { node { id } } } }`, false},
		{`{ files { ...E } } fragment E on FileConnection { edges { node { id } } }`, false},
		{introspectionQuery(t), true},
	} {
		status, body := g.post(t, true, tc.query, nil)
		r := decodeResponse(t, body)
		if tc.ok != (status == http.StatusOK && len(r.Errors) == 0) {
			t.Errorf("%.60s: %d %.300s", tc.query, status, body)
		}
		if !tc.ok && (status != http.StatusBadRequest || r.Errors[0].Extensions["limit"] != "depth") {
			t.Errorf("%.60s: %d %.300s, want 400 with the depth limit", tc.query, status, body)
		}
	}
}

// blockingHook holds the queries that touch table until their context is
// done, and reports that context's error.
type blockingHook struct {
	table   string
	started chan struct{}
	done    chan error
}

func (h *blockingHook) BeforeQuery(ctx context.Context, ev *bun.QueryEvent) context.Context {
	if strings.Contains(ev.Query, `"`+h.table+`"`) {
		select {
		case h.started <- struct{}{}:
			<-ctx.Done()
			h.done <- ctx.Err()
		default:
		}
	}
	return ctx
}

func (h *blockingHook) AfterQuery(context.Context, *bun.QueryEvent) {}

// When the client hangs up, the resolvers' and the dataloaders' queries
// are cancelled with the request.
func TestWorkStopsWhenTheClientHangsUp(t *testing.T) {
	for _, tc := range []struct{ name, table, query string }{
		{"resolver", "files", `{ files(first: 1000) { edges { node { id } } } }`},
		{"dataloader", "transformations", `{ files { edges { node { transformation(name: "thumb") { url } } } } }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hook := &blockingHook{table: tc.table, started: make(chan struct{}), done: make(chan error, 1)}
			g := newTestGraph(t, 3, transport.Config{}, hook)
			srv := httptest.NewServer(g.as(true))
			defer srv.Close()
			ctx, hangUp := context.WithCancel(context.Background())
			body, _ := json.Marshal(map[string]any{"query": tc.query})
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			errc := make(chan error, 1)
			go func() {
				resp, err := srv.Client().Do(req)
				if err == nil {
					resp.Body.Close()
				}
				errc <- err
			}()
			select {
			case <-hook.started:
			case err := <-errc:
				t.Fatalf("the request ended before its query ran: %v", err)
			case <-time.After(30 * time.Second):
				t.Fatal("the query never ran")
			}
			hangUp()
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Fatalf("client: %v", err)
			}
			select {
			case err := <-hook.done:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("the query's context ended with %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the query went on after the client hung up")
			}
		})
	}
}
