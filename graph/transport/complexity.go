package transport

import (
	"context"
	"math"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"satchel/internal/auth"
)

// OperationCost is the complexity of op, or a number over limit once it
// is known to be: a field costs what its complexity function in es says
// (gqlgen's Config.Complexity) or 1 plus the cost of its selection;
// inline fragments and fragment spreads cost their selections.
// Introspection costs the fields it resolves, counted exactly
// (introspectionCost). The complexity limit refuses an operation over
// Config.ComplexityLimit by it.
//
// gqlgen's complexity.Calculate would not do: it skips everything under
// __schema, which would leave requests without an API key unbounded, and
// it walks a fragment at every spread (a chain of fragments each spreading
// the next twice is 2^n walks). Here a fragment's cost is computed once:
// it does not depend on where the fragment is spread, since its fields,
// their arguments and the variables are the same everywhere.
func OperationCost(ctx context.Context, es graphql.ExecutableSchema, op *ast.OperationDefinition, vars map[string]any, limit int) int {
	w := costWalker{ctx: ctx, es: es, vars: vars, limit: limit, frags: map[string]int{}}
	return w.set(op.SelectionSet)
}

type costWalker struct {
	ctx   context.Context
	es    graphql.ExecutableSchema
	vars  map[string]any
	limit int
	frags map[string]int // cost of each fragment's selection, once computed
}

// set is the cost of set, or a number past the limit as soon as the cost
// is known to be over it.
func (w *costWalker) set(set ast.SelectionSet) int {
	total := 0
	for _, sel := range set {
		if total > w.limit {
			break
		}
		switch s := sel.(type) {
		case *ast.Field:
			total = satAdd(total, w.field(s), math.MaxInt)
		case *ast.InlineFragment:
			total = satAdd(total, w.set(s.SelectionSet), math.MaxInt)
		case *ast.FragmentSpread:
			c, ok := w.frags[s.Name]
			if !ok && s.Definition != nil {
				w.frags[s.Name] = 0 // validation refused cycles; this ends one anyway
				c = w.set(s.Definition.SelectionSet)
				w.frags[s.Name] = c
			}
			total = satAdd(total, c, math.MaxInt)
		}
	}
	return total
}

// field is the cost of f: its complexity function's, if it has one, or 1
// plus its selection's.
func (w *costWalker) field(f *ast.Field) int {
	if f.ObjectDefinition != nil && f.ObjectDefinition.Name == w.es.Schema().Query.Name {
		switch f.Name {
		case "__schema", "__type":
			return introspectionCost(w.es.Schema(), f, w.vars, w.limit)
		}
	}
	child := w.set(f.SelectionSet)
	if f.ObjectDefinition == nil {
		return satAdd(1, child, math.MaxInt)
	}
	// An interface's field may cost what it costs on any implementation.
	types := []*ast.Definition{f.ObjectDefinition}
	if f.ObjectDefinition.Kind == ast.Interface {
		types = w.es.Schema().GetPossibleTypes(f.ObjectDefinition)
	}
	args := f.ArgumentMap(w.vars)
	cost := 0
	for _, t := range types {
		if c, ok := w.es.Complexity(w.ctx, t.Name, f.Name, child, args); ok && c > cost {
			cost = c
		}
	}
	if cost == 0 {
		cost = satAdd(1, child, math.MaxInt)
	}
	return cost
}

// ConnectionCost is the cost of a connection field: 1, plus its selection
// once per node of a page of pageSize. Costs saturate at math.MaxInt.
func ConnectionCost(pageSize, child int) int {
	return satAdd(1, satMul(pageSize, child), math.MaxInt)
}

// ItemsCost is the cost of a field that works on n items (deleteFiles):
// 1 per item, plus its selection once.
func ItemsCost(n, child int) int { return satAdd(1+n, child, math.MaxInt) }

func satMul(a, b int) int {
	if a <= 0 || b <= 0 {
		return 0
	}
	if a > math.MaxInt/b {
		return math.MaxInt
	}
	return a * b
}

// complexityLimit refuses operations that cost more than their budget:
// authenticated requests get one, requests without an API key (which may
// only introspect) a far smaller one.
type complexityLimit struct {
	es                       graphql.ExecutableSchema
	authenticated, anonymous int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*complexityLimit)(nil)

func (*complexityLimit) ExtensionName() string { return "ComplexityLimit" }

func (c *complexityLimit) Validate(es graphql.ExecutableSchema) error {
	c.es = es
	return nil
}

func (c *complexityLimit) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	limit, who := c.authenticated, ""
	if auth.FromContext(ctx) == nil {
		limit, who = c.anonymous, " for a request without an API key"
	}
	if OperationCost(ctx, c.es, rc.Operation, rc.Variables, limit) > limit {
		return limitError("complexity", "the operation costs more than the limit of %d%s: ask for fewer fields or smaller pages (first, last)", limit, who)
	}
	return nil
}
