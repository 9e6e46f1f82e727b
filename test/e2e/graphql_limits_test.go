package e2e

// Issue 12's hostile GraphQL documents against the whole server: each is
// refused before it is validated or run, with BAD_USER_INPUT (a request
// error: 400 for application/graphql-response+json, 200 and no data for
// application/json, as the GraphQL-over-HTTP spec asks), while what real
// clients send passes.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gqlRepeat is "{ " + n copies of format (given the index) + " }".
func gqlRepeat(n int, format string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		b.WriteString(" ")
		if strings.Contains(format, "%d") {
			fmt.Fprintf(&b, format, i)
		} else {
			b.WriteString(format)
		}
	}
	b.WriteString(" }")
	return b.String()
}

func TestGraphQLLimits(t *testing.T) {
	// go test runs in the package's directory: the module root is ../..
	raw, err := os.ReadFile(filepath.Join("..", "..", "graph", "testdata", "introspection.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	graphiql := string(raw)
	eachDatabase(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		sec := s.keys.SecretKey
		asJSON := with(jsonHeaders, "Accept", "application/json")
		asGraphQL := with(jsonHeaders, "Accept", "application/graphql-response+json")
		var scenarios []scenario
		// refused adds the request with both media types.
		refused := func(name, key, query, code string) {
			body := gqlJSON(query, nil)
			scenarios = append(scenarios,
				scenario{name: name + ", json", method: "POST", url: "/graphql", key: key, headers: asJSON, body: body,
					status: 200, code: code, notContains: []string{`"data"`}},
				scenario{name: name + ", graphql-response", method: "POST", url: "/graphql", key: key, headers: asGraphQL, body: body,
					status: 400, code: code, notContains: []string{`"data"`}})
		}
		// The documents of the issue: 107 KB of __typename, 2,000 fields
		// under one alias with conflicting arguments, 1,000 pages of 1,000
		// files; with and without a key.
		for _, key := range []string{"", sec} {
			who := "with a key"
			if key == "" {
				who = "without a key"
			}
			refused("10,000 __typename "+who, key, gqlRepeat(10_000, "__typename"), "BAD_USER_INPUT")
			refused("4,000 __typename "+who, key, gqlRepeat(4_000, "__typename"), "BAD_USER_INPUT")
			refused("2,000 conflicting fields under one alias "+who, key, gqlRepeat(2_000, `a: __type(name: "T%d") { name }`), "BAD_USER_INPUT")
			refused("1,000 aliases of files(first: 1000) "+who, key, gqlRepeat(1_000, `f%d: files(first: 1000) { edges { node { id } } }`), "BAD_USER_INPUT")
			refused("a fragment spread 2^40 times "+who, key, "{ __type(name: \"Query\") { ...F0 } }\n"+gqlFragmentChain(40), "BAD_USER_INPUT")
			refused("fragments spreading each other "+who, key,
				`{ __type(name: "Query") { ...A } } fragment A on __Type { ofType { ...B } } fragment B on __Type { ofType { ...A } }`, "GRAPHQL_VALIDATION_FAILED")
		}
		// Complexity: 100 pages of 1000 files cost 300,100.
		refused("100 aliases of files(first: 1000)", sec, gqlRepeat(100, `f%d: files(first: 1000) { edges { node { id } } }`), "BAD_USER_INPUT")
		// GraphiQL's introspection costs 2,947: four of them (11,788) are
		// over the budget of a request without a key, not of one with.
		fourSchemas := gqlRepeat(4, `s%d: __schema { types { ...FullType } }`) + graphiql[strings.Index(graphiql, "fragment FullType"):]
		refused("four introspections without a key", "", fourSchemas, "BAD_USER_INPUT")
		scenarios = append(scenarios,
			scenario{name: "four introspections with a key", method: "POST", url: "/graphql", key: sec, headers: asGraphQL,
				body: gqlJSON(fourSchemas, nil), status: 200},
			scenario{name: "GraphiQL introspection without a key, json", method: "POST", url: "/graphql", headers: asJSON,
				body: gqlJSON(graphiql, nil), status: 200, contains: []string{`"queryType":{"name":"Query","kind":"OBJECT"}`}},
			scenario{name: "GraphiQL introspection without a key, graphql-response", method: "POST", url: "/graphql", headers: asGraphQL,
				body: gqlJSON(graphiql, nil), status: 200, contains: []string{`"queryType":{"name":"Query","kind":"OBJECT"}`}},
			scenario{name: "GraphiQL introspection over GET", method: "GET", url: "/graphql?query=" + url.QueryEscape(graphiql),
				status: 200, contains: []string{`"queryType":{"name":"Query","kind":"OBJECT"}`}},
			scenario{name: "a full page of files", method: "POST", url: "/graphql", key: sec, headers: asGraphQL,
				body:   gqlJSON(`{ files(first: 1000) { edges { cursor node { id accountId name mime size tags { name searchable } uploadedAt url sha256 transformation(name: "thumb") { name url status width height size mime } } } pageInfo { hasNextPage endCursor } } }`, nil),
				status: 200},
			scenario{name: "100 aliases of file", method: "POST", url: "/graphql", key: sec, headers: asGraphQL,
				body: gqlJSON(gqlRepeat(100, `f%d: file(id: "x") { id name url }`), nil), status: 200},
		)

		// A body over the limit (1 MiB) is 413 TOO_LARGE whatever the
		// media type, with or without a key, whether its length is
		// announced or not.
		big := gqlJSON("{ __typename }", map[string]any{"pad": strings.Repeat("x", 1<<20)})
		for _, key := range []string{"", sec} {
			for _, chunked := range []bool{false, true} {
				name := fmt.Sprintf("body over the limit, key %v, chunked %v", key != "", chunked)
				scenarios = append(scenarios,
					scenario{name: name + ", json", method: "POST", url: "/graphql", key: key, headers: asJSON, body: big, chunked: chunked,
						status: 413, code: "TOO_LARGE"},
					scenario{name: name + ", graphql-response", method: "POST", url: "/graphql", key: key, headers: asGraphQL, body: big, chunked: chunked,
						status: 413, code: "TOO_LARGE"})
			}
		}

		// Requests that are not GraphQL-over-HTTP requests: 400.
		scenarios = append(scenarios,
			scenario{name: "no query (a typo)", method: "POST", url: "/graphql", key: sec, headers: asJSON, body: `{"qeury":"{ __typename }"}`,
				status: 400, code: "BAD_USER_INPUT"},
			scenario{name: "no query at all", method: "POST", url: "/graphql", key: sec, headers: jsonHeaders, body: `{}`,
				status: 400, code: "BAD_USER_INPUT"},
			scenario{name: "no query over GET", method: "GET", url: "/graphql?operationName=x", key: sec,
				status: 400, code: "BAD_USER_INPUT"},
			scenario{name: "variables not an object", method: "POST", url: "/graphql", key: sec, headers: jsonHeaders, body: `{"query":"{ __typename }","variables":[7]}`,
				status: 400, code: "BAD_USER_INPUT"},
			scenario{name: "body not UTF-8", method: "POST", url: "/graphql", key: sec, headers: jsonHeaders, body: "{\"query\":\"{ file(id: \\\"\xff\\\") { id } }\"}",
				status: 400, code: "BAD_USER_INPUT"},
		)
		runScenarios(t, s, scenarios)

		// An automatic persisted query (a query sent once with its hash,
		// then by its hash alone) still works: a request without a query
		// but with extensions.persistedQuery is well formed.
		q := "{ files(first: 1) { edges { cursor } } }"
		sum := sha256.Sum256([]byte(q))
		ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
		for i, body := range []map[string]any{{"query": q, "extensions": ext}, {"extensions": ext}} {
			status, r, _ := s.gqlPost(t, sec, nil, body)
			if status != http.StatusOK || len(r.Errors) > 0 {
				t.Fatalf("persisted query, request %d: %d %+v", i, status, r.Errors)
			}
		}
	})
}

// gqlFragmentChain is n fragments on __Type, each spreading the next twice.
func gqlFragmentChain(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "fragment F%d on __Type { ofType { ...F%d } again: ofType { ...F%d } }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on __Type { name }\n", n)
	return b.String()
}
