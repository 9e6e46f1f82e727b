package transport

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"satchel/internal/apperr"
)

// textCheck refuses, before anything runs, an operation with a string
// argument that is not text: a NUL character (PostgreSQL cannot store one
// in text, and no name, origin, media type or tag needs one) or bytes that
// are not UTF-8 (the transports refuse a body or a parameter that is not
// UTF-8; this holds whatever the transport). It checks every argument
// written in the operation and its fragments, of fields and of
// directives, and every variable, nested in input objects and lists.
type textCheck struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = textCheck{}

func (textCheck) ExtensionName() string                   { return "TextCheck" }
func (textCheck) Validate(graphql.ExecutableSchema) error { return nil }

func (textCheck) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil {
		return nil
	}
	for name, v := range rc.Variables {
		if !textValue(v) {
			return notText("variable $" + name)
		}
	}
	w := textWalker{seen: map[string]bool{}}
	if where := w.set(rc.Operation.SelectionSet); where != "" {
		return notText(where)
	}
	for _, d := range rc.Operation.VariableDefinitions {
		if d.DefaultValue != nil && !textLiteral(d.DefaultValue) {
			return notText("the default value of $" + d.Variable)
		}
	}
	return nil
}

func notText(where string) *gqlerror.Error {
	err := gqlerror.Errorf("%s holds a string with a NUL character or bytes that are not UTF-8: strings must be UTF-8 text without NUL", where)
	err.Extensions = map[string]any{"code": apperr.BadUserInput}
	return err
}

// isText reports whether s is UTF-8 without NUL.
func isText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// textValue checks a variable's value as JSON decoding (or the multipart
// transport) left it.
func textValue(v any) bool {
	switch v := v.(type) {
	case string:
		return isText(v)
	case map[string]any:
		for k, e := range v {
			if !isText(k) || !textValue(e) {
				return false
			}
		}
	case []any:
		for _, e := range v {
			if !textValue(e) {
				return false
			}
		}
	}
	return true
}

// textLiteral checks a value written in the document. Variables in it are
// checked as variables.
func textLiteral(v *ast.Value) bool {
	switch v.Kind {
	case ast.StringValue, ast.BlockValue, ast.EnumValue:
		return isText(v.Raw)
	case ast.ListValue, ast.ObjectValue:
		for _, c := range v.Children {
			if !textLiteral(c.Value) {
				return false
			}
		}
	}
	return true
}

// textWalker checks the arguments of a selection set, each fragment once.
type textWalker struct{ seen map[string]bool }

// set returns where a bad argument is ("" when none is).
func (w textWalker) set(set ast.SelectionSet) string {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if where := w.args(s.Arguments, "argument %q of field %q", s.Name); where != "" {
				return where
			}
			if where := w.directives(s.Directives); where != "" {
				return where
			}
			if where := w.set(s.SelectionSet); where != "" {
				return where
			}
		case *ast.InlineFragment:
			if where := w.directives(s.Directives); where != "" {
				return where
			}
			if where := w.set(s.SelectionSet); where != "" {
				return where
			}
		case *ast.FragmentSpread:
			if where := w.directives(s.Directives); where != "" {
				return where
			}
			if !w.seen[s.Name] && s.Definition != nil {
				w.seen[s.Name] = true
				if where := w.directives(s.Definition.Directives); where != "" {
					return where
				}
				if where := w.set(s.Definition.SelectionSet); where != "" {
					return where
				}
			}
		}
	}
	return ""
}

func (w textWalker) directives(ds ast.DirectiveList) string {
	for _, d := range ds {
		if where := w.args(d.Arguments, "argument %q of directive @%s", d.Name); where != "" {
			return where
		}
	}
	return ""
}

func (textWalker) args(args ast.ArgumentList, format, owner string) string {
	for _, a := range args {
		if !textLiteral(a.Value) {
			return fmt.Sprintf(format, a.Name, owner)
		}
	}
	return ""
}
