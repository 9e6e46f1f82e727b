package graph

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"satchel/graph/transport"
)

// costOf parses and validates query against Satchel's schema and returns
// its complexity.
func costOf(t *testing.T, query string, vars map[string]any) int {
	t.Helper()
	es := NewExecutableSchema(Config{Complexity: complexityFuncs()})
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		t.Fatal(err)
	}
	if errs := validator.ValidateWithRules(es.Schema(), doc, nil); len(errs) > 0 {
		t.Fatal(errs)
	}
	return transport.OperationCost(context.Background(), es, doc.Operations[0], vars, math.MaxInt-1)
}

func TestOperationCost(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	schemaTypes, schemaFields := len(schema.Types), 0
	for _, d := range schema.Types {
		if d.Kind == ast.Object || d.Kind == ast.Interface {
			for _, f := range d.Fields {
				if !strings.HasPrefix(f.Name, "__") {
					schemaFields++
				}
			}
		}
	}
	const node = `edges { node { id } }` // 1 + (1 + 1) per page entry
	for _, tc := range []struct {
		name  string
		query string
		vars  map[string]any
		want  int
	}{
		{"default page", `{ files { ` + node + ` } }`, nil, 1 + 50*3},
		{"first", `{ files(first: 1000) { ` + node + ` } }`, nil, 1 + 1000*3},
		{"last", `{ files(last: 10) { ` + node + ` } }`, nil, 1 + 10*3},
		{"first from a variable", `query($n: Int) { files(first: $n) { ` + node + ` } }`, map[string]any{"n": 20}, 1 + 20*3},
		{"past the maximum page", `{ files(first: 100000) { ` + node + ` } }`, nil, 1 + 1000*3},
		{"empty page", `{ files(first: 0) { ` + node + ` } }`, nil, 1},
		{"page info counts per page too", `{ files(first: 10) { pageInfo { hasNextPage } } }`, nil, 1 + 10*2},
		{"aliases add up", `{ a: files(first: 1000) { ` + node + ` } b: files(first: 1000) { ` + node + ` } }`, nil, 2 * (1 + 1000*3)},
		{"fragments cost their fields", `{ files { edges { node { ...F } } } } fragment F on File { id name }`, nil, 1 + 50*(1+1+2)},
		{"transformation per file", `{ files(first: 100) { edges { node { transformation(name: "t") { url } } } } }`, nil, 1 + 100*(1+1+2)},
		{"deleteFiles per ID", `mutation { deleteFiles(ids: ["a", "b", "c"]) { deletedIds } }`, nil, 1 + 3 + 1},
		{"introspection counts what it resolves", `{ __schema { types { name fields { name } } } }`, nil, 2 + 2*schemaTypes + schemaFields},
		{"a type", `{ __type(name: "FileEdge") { name fields { name type { kind ofType { name } } } } }`, nil, 1 + 2 + 2*(1+1+2+1)},
		{"a type from a variable", `query($t: String!) { __type(name: $t) { name } }`, map[string]any{"t": "File"}, 2},
		{"no such type", `{ __type(name: "Nope") { name } }`, nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := costOf(t, tc.query, tc.vars); got != tc.want {
				t.Fatalf("cost %d, want %d", got, tc.want)
			}
		})
	}
}

// GraphiQL's introspection query costs the fields it resolves (2,947 for
// Satchel's schema today). It must stay well within the budget of a request
// without an API key: when the schema grows past half of it, raise
// transport.DefaultAnonymousComplexity.
func TestOperationCostOfGraphiQLIntrospection(t *testing.T) {
	got := costOf(t, introspectionQuery(t), nil)
	if got < 2000 || got > transport.DefaultAnonymousComplexity/2 {
		t.Fatalf("GraphiQL's introspection query costs %d; the anonymous limit is %d", got, transport.DefaultAnonymousComplexity)
	}
}

// A fragment spread many times is costed once: 2^40 paths through 41
// fragments (walking them, as gqlgen's complexity.Calculate does, would not
// end before the test's timeout).
func TestOperationCostComputesFragmentsOnce(t *testing.T) {
	var b strings.Builder
	b.WriteString("{ file(id: \"x\") { ...F0 } }\n")
	for i := range 40 {
		fmt.Fprintf(&b, "fragment F%d on File { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	b.WriteString("fragment F40 on File { id }\n")
	got := costOf(t, b.String(), nil)
	if want := 1 + 1<<40; got != want {
		t.Fatalf("cost %d, want %d", got, want)
	}
}
