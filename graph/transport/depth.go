package transport

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// depthLimit refuses operations whose fields nest deeper than max.
// Introspection is exempt: its nesting is bounded by the schema (an ofType
// chain ends where the type's wrapping does) and by gqlparser's
// MaxIntrospectionDepth rule, while GraphiQL's own introspection query
// nests 15 levels.
type depthLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (d depthLimit) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil {
		return nil
	}
	w := depthWalker{frags: map[string]int{}}
	if n := w.set(rc.Operation.SelectionSet); n > d.max {
		return limitError("depth", "the operation nests fields %d levels deep, more than the limit of %d", n, d.max)
	}
	return nil
}

// depthWalker measures nesting, each fragment once (memoized), so that
// fragments spreading fragments cost their size, not their paths.
type depthWalker struct{ frags map[string]int }

func (w depthWalker) set(set ast.SelectionSet) int {
	deepest := 0
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			d = 1
			if s.Name != "__schema" && s.Name != "__type" {
				d += w.set(s.SelectionSet)
			}
		case *ast.InlineFragment:
			d = w.set(s.SelectionSet)
		case *ast.FragmentSpread:
			var ok bool
			if d, ok = w.frags[s.Name]; !ok && s.Definition != nil {
				w.frags[s.Name] = 0 // validation refused cycles; this ends one anyway
				d = w.set(s.Definition.SelectionSet)
				w.frags[s.Name] = d
			}
		}
		deepest = max(deepest, d)
	}
	return deepest
}
