package transport

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// introspectionQuery is GraphiQL's introspection query, kept with the
// schema's tests in graph/testdata.
func introspectionQuery(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("../testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fragmentChain is n fragments each spreading the next twice: 2^n fields
// once expanded, in a document of a few hundred bytes.
func fragmentChain(n int, typ, field string) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "fragment F%d on %s { %s { ...F%d } again: %s { ...F%d } }\n", i, typ, field, i+1, field, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on %s { name }\n", n, typ)
	return b.String()
}

func TestCountDocument(t *testing.T) {
	intro := introspectionQuery(t)
	for _, tc := range []struct {
		name   string
		src    string
		limits docLimits
		want   docCounts // Bytes and Tokens are not compared when 0
	}{
		{name: "fields", src: `{ a b c }`, want: docCounts{Tokens: 5, Fields: 3}},
		{name: "repeated field", src: `{ a a }`, want: docCounts{Fields: 2, FieldPairs: 1}},
		{name: "aliases", src: `{ x: a x: b y: c }`, want: docCounts{Fields: 3, Aliases: 3, FieldPairs: 1}},
		{name: "merged selections", src: `{ a { b } a { b c } }`, want: docCounts{Fields: 5, FieldPairs: 2}},
		{name: "inline fragments merge", src: `{ a ... on Query { a ... @include(if: true) { a } } }`, want: docCounts{Fields: 3, FieldPairs: 3}},
		{name: "fragment spreads", src: `{ a ...F ...F } fragment F on Query { a }`,
			// The operation selects 3 (F twice), F on its own 1; at the root
			// F joins once: a, a.
			want: docCounts{Fields: 4, FieldPairs: 1}},
		{name: "fragments spread in fragments", src: `query { ...A } fragment A on Query { x: b ...B ...B } fragment B on Query { c }`,
			want: docCounts{Fields: 3 + 3 + 1, Aliases: 1 + 1}},
		{name: "arguments, values, directives", src: `query Q($v: In = {a: "x", b: [1, {c: 2}]}) @d(a: 1) { a(x: {y: 1, z: [1, {w: $v}]}) @skip(if: false) { b(k: "{ not a field }") } }`,
			want: docCounts{Fields: 2}},
		{name: "comments do not count as fields", src: "{ a: # an alias\n b # another\n c }", want: docCounts{Tokens: 8, Fields: 2, Aliases: 1}},
		{name: "fields named like keywords", src: `{ on query fragment ... on Query { on } }`, want: docCounts{Fields: 4, FieldPairs: 1}},
		{name: "several operations", src: `query A { a } query B { a } mutation C { a }`, want: docCounts{Fields: 3}},
		{name: "cycle", src: `{ ...A } fragment A on Query { b { ...B } } fragment B on Query { c { ...A } }`,
			// Counted without following the cycle: 2 + 2 + 1.
			want: docCounts{Fields: 5, Cycle: "A"}},
		{name: "self spread", src: `fragment A on Query { ...A }`, want: docCounts{Cycle: "A"}},
		{name: "GraphiQL introspection", src: intro,
			want: docCounts{Bytes: len(intro), Tokens: 184 + 1, Fields: 471}},
		{name: "lexical error stops the count", src: `{ a b ! "unterminated`, want: docCounts{Fields: 2}},
		{name: "over the bytes", src: `{ a }`, limits: docLimits{Bytes: 4}, want: docCounts{Bytes: 5}},
		{name: "over the tokens: the count stops", src: strings.Repeat("{ a }", 1000), limits: docLimits{Tokens: 10},
			want: docCounts{Tokens: 11, Fields: 3}},
		{name: "over the fields: the count stops", src: "{" + strings.Repeat(" a", 10_000) + " }", limits: docLimits{Fields: 100},
			want: docCounts{Fields: 101}},
		{name: "fragment chain saturates", src: "{ __type(name: \"Query\") { ...F0 } }\n" + fragmentChain(60, "__Type", "ofType"),
			limits: docLimits{Fields: 5000, Aliases: 500}, want: docCounts{Fields: 5001, Aliases: 501}},
		{name: "pairs saturate", src: "{" + strings.Repeat(" a", 2000) + " }", limits: docLimits{Fields: 5000, FieldPairs: 100},
			want: docCounts{Fields: 2000, FieldPairs: 101}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := countDocument(tc.src, tc.limits)
			if tc.want.Bytes == 0 {
				got.Bytes = 0
			}
			if tc.want.Tokens == 0 {
				got.Tokens = 0
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestCountDocumentRefusesHostileDocumentsEarly(t *testing.T) {
	limits := Config{}.withDefaults().docLimits()
	var sameAlias strings.Builder
	sameAlias.WriteString("{")
	for i := range 1500 {
		fmt.Fprintf(&sameAlias, ` a: __type(name: "T%d") { name }`, i)
	}
	sameAlias.WriteString(" }")
	for _, tc := range []struct{ name, src, over string }{
		{"10,000 __typename", "{" + strings.Repeat(" __typename", 10_000) + " }", "bytes"},
		{"4,000 __typename", "{" + strings.Repeat(" __typename", 4_000) + " }", "field pairs"},
		{"1,500 same aliases", sameAlias.String(), "aliases"},
		{"fragment chain", "{ __type(name: \"Query\") { ...F0 } }\n" + fragmentChain(60, "__Type", "ofType"), "fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := countDocument(tc.src, limits).exceeded(limits); got != tc.over {
				t.Fatalf("over %q, want %q", got, tc.over)
			}
		})
	}
	if got := countDocument(introspectionQuery(t), limits).exceeded(limits); got != "" {
		t.Fatalf("GraphiQL's introspection query is over the %s limit", got)
	}
}

// FuzzCountDocument checks that the count never panics and, on documents
// gqlparser parses, agrees with the same counts taken on its AST.
func FuzzCountDocument(f *testing.F) {
	for _, s := range []string{
		`{ a b c }`, `{ a a }`, `{ x: a x: b }`, `{ a { b } a { b c } }`,
		`{ a ... on Query { a ... @include(if: true) { a } } }`,
		`{ a ...F ...F } fragment F on Query { a }`,
		`query Q($v: In = {a: "x", b: [1, {c: 2}]}) @d(a: 1) { a(x: {y: 1, z: [1, {w: $v}]}) @skip(if: false) { b } }`,
		"{ a: # c\n b }", `{ on query fragment ... on Query { on } }`,
		`{ ...A } fragment A on Query { b { ...B } } fragment B on Query { c { ...A } }`,
		`fragment A on Q { a } fragment A on Q { b } { ...A }`,
		"{ __type(name: \"Query\") { ...F0 } }\n" + fragmentChain(3, "__Type", "ofType"),
		introspectionQuery(f), `{ a(s: """block "" string""") }`, "{ a(s: \"\\u00e9\") \xff }",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		limits := docLimits{Fields: 5000, Aliases: 5000, FieldPairs: 1 << 20}
		got := countDocument(src, limits)
		doc, err := parser.ParseQuery(&ast.Source{Input: src})
		if err != nil {
			return
		}
		ref := newASTCounts(doc)
		if ref.cycle != (got.Cycle != "") {
			t.Fatalf("cycle %q, the AST has cycle %v", got.Cycle, ref.cycle)
		}
		if ref.cycle {
			return
		}
		if ref.fields > limits.Fields {
			if got.Fields <= limits.Fields {
				t.Fatalf("fields %d, the AST has %d, over the limit", got.Fields, ref.fields)
			}
			return
		}
		if got.Fields != ref.fields || got.Aliases < ref.aliases || got.Aliases > got.Fields {
			t.Fatalf("fields %d, aliases %d; the AST has %d fields, %d with an alias unlike its name", got.Fields, got.Aliases, ref.fields, ref.aliases)
		}
		if pairs := ref.pairs(); got.FieldPairs != min(pairs, limits.FieldPairs+1) {
			t.Fatalf("field pairs %d, the AST has %d", got.FieldPairs, pairs)
		}
	})
}

// astCounts are docCounts computed on gqlparser's AST, independently.
type astCounts struct {
	doc             *ast.QueryDocument
	fields, aliases int
	cycle           bool
	byName          map[string][]*ast.FragmentDefinition
}

func newASTCounts(doc *ast.QueryDocument) *astCounts {
	c := &astCounts{doc: doc, byName: map[string][]*ast.FragmentDefinition{}}
	for _, f := range doc.Fragments {
		c.byName[f.Name] = append(c.byName[f.Name], f)
	}
	type sums struct{ f, a int }
	memo := map[*ast.FragmentDefinition]sums{}
	active := map[*ast.FragmentDefinition]bool{}
	const ceiling = 1 << 30
	var set func(ss ast.SelectionSet) sums
	set = func(ss ast.SelectionSet) sums {
		var out sums
		add := func(v sums) { out.f, out.a = min(out.f+v.f, ceiling), min(out.a+v.a, ceiling) }
		for _, sel := range ss {
			switch s := sel.(type) {
			case *ast.Field:
				alias := 0
				if s.Alias != s.Name {
					alias = 1
				}
				add(sums{1, alias})
				add(set(s.SelectionSet))
			case *ast.InlineFragment:
				add(set(s.SelectionSet))
			case *ast.FragmentSpread:
				for _, d := range c.byName[s.Name] {
					if active[d] {
						c.cycle = true
						continue
					}
					v, ok := memo[d]
					if !ok {
						active[d] = true
						v = set(d.SelectionSet)
						active[d] = false
						memo[d] = v
					}
					add(v)
				}
			}
		}
		return out
	}
	for _, op := range doc.Operations {
		v := set(op.SelectionSet)
		c.fields, c.aliases = min(c.fields+v.f, ceiling), min(c.aliases+v.a, ceiling)
	}
	for _, f := range doc.Fragments {
		active[f] = true
		v := set(f.SelectionSet)
		active[f] = false
		c.fields, c.aliases = min(c.fields+v.f, ceiling), min(c.aliases+v.a, ceiling)
	}
	return c
}

// pairs is FieldPairs on the AST: at each place, the fields of the
// selection sets merged there, their inline fragments and the fragments
// spread there (each once), grouped by response name.
func (c *astCounts) pairs() int {
	total := 0
	var place func(sets []ast.SelectionSet)
	place = func(sets []ast.SelectionSet) {
		groups := map[string][]ast.SelectionSet{}
		counts := map[string]int{}
		seen := map[string]bool{}
		var collect func(ss ast.SelectionSet)
		collect = func(ss ast.SelectionSet) {
			for _, sel := range ss {
				switch s := sel.(type) {
				case *ast.Field:
					counts[s.Alias]++
					if s.SelectionSet != nil {
						groups[s.Alias] = append(groups[s.Alias], s.SelectionSet)
					}
				case *ast.InlineFragment:
					collect(s.SelectionSet)
				case *ast.FragmentSpread:
					if !seen[s.Name] {
						seen[s.Name] = true
						for _, d := range c.byName[s.Name] {
							collect(d.SelectionSet)
						}
					}
				}
			}
		}
		for _, ss := range sets {
			collect(ss)
		}
		for name, n := range counts {
			total += n * (n - 1) / 2
			if len(groups[name]) > 0 {
				place(groups[name])
			}
		}
	}
	for _, op := range c.doc.Operations {
		place([]ast.SelectionSet{op.SelectionSet})
	}
	for _, f := range c.doc.Fragments {
		place([]ast.SelectionSet{f.SelectionSet})
	}
	return total
}
