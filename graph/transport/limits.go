package transport

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"satchel/internal/apperr"
)

// limitError is a refusal by one of the limits: BAD_USER_INPUT, a request
// error (400 with application/graphql-response+json, 200 with
// application/json, as for validation errors), with the limit's name in
// extensions.limit.
func limitError(limit, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	err.Extensions = map[string]any{"code": apperr.BadUserInput, "limit": limit}
	return err
}

// documentLimits refuses a document over the limits before gqlparser
// parses it: gqlgen runs OperationParameterMutators first thing in
// CreateOperationContext, before its query cache and parser.
type documentLimits struct{ limits docLimits }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = documentLimits{}

func (documentLimits) ExtensionName() string                   { return "DocumentLimits" }
func (documentLimits) Validate(graphql.ExecutableSchema) error { return nil }

func (d documentLimits) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	return d.check(p.Query)
}

func (d documentLimits) check(query string) *gqlerror.Error {
	l := d.limits
	c := countDocument(query, l)
	if c.Cycle != "" {
		// What gqlparser's NoFragmentCycles says, before the rules that
		// walk every path through the cycle do.
		err := gqlerror.Errorf("Cannot spread fragment %q within itself.", c.Cycle)
		errcode.Set(err, errcode.ValidationFailed)
		return err
	}
	switch c.exceeded(l) {
	case "bytes":
		return limitError("documentBytes", "the query is %d bytes long, more than the limit of %d", c.Bytes, l.Bytes)
	case "tokens":
		return limitError("tokens", "the query has more than %d tokens", l.Tokens)
	case "fields":
		return limitError("fields", "the query selects more than %d fields (a fragment counts at each spread)", l.Fields)
	case "aliases":
		return limitError("aliases", "the query has more than %d aliased fields (a fragment counts at each spread)", l.Aliases)
	case "field pairs":
		return limitError("fieldPairs", "the query repeats fields too often: more than %d pairs of fields share a response name at the same place", l.FieldPairs)
	}
	return nil
}

// validationRules are gqlparser's rules, each reporting at most max
// errors: a document of a thousand conflicting fields has half a million
// conflicts, and each would be an error in the response.
func validationRules(max int) func() *rules.Rules {
	return func() *rules.Rules {
		def := rules.NewDefaultRules()
		capped := rules.NewRules()
		for name, fn := range def.GetInner() {
			capped.AddRule(name, func(observers *core.Events, addError core.AddErrFunc) {
				n := 0
				fn(observers, func(options ...core.ErrorOption) {
					if n++; n <= max {
						addError(options...)
					}
				})
			})
		}
		return capped
	}
}
