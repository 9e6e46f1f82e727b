package transport

import (
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// introspectionCost is the number of fields the introspection field f
// (__schema or __type on Query) resolves, itself included: the schema is
// at hand, so the count is exact where an estimate from averages could be
// fooled (by asking __type for the one type with the most fields, say).
// The walk follows the answer, as gqlgen's introspection resolvers build
// it, without building it, and stops once the count passes limit.
func introspectionCost(schema *ast.Schema, f *ast.Field, vars map[string]any, limit int) int {
	w := introWalker{schema: schema, left: limit}
	switch f.Name {
	case "__schema":
		w.set(f.SelectionSet, introObject{kind: "__Schema"})
	case "__type":
		name, _ := f.ArgumentMap(vars)["name"].(string)
		if def := schema.Types[name]; def != nil {
			w.set(f.SelectionSet, introObject{kind: "__Type", def: def})
		}
	}
	return 1 + limit - w.left
}

// introObject is one object of an introspection answer.
type introObject struct {
	kind  string                   // its type: __Schema, __Type, __Field, ...
	def   *ast.Definition          // __Type: a named type
	typ   *ast.Type                // __Type: a list or non-null type; __InputValue: its type
	field *ast.FieldDefinition     // __Field
	dir   *ast.DirectiveDefinition // __Directive
}

type introWalker struct {
	schema *ast.Schema
	left   int // fields that may still be counted; negative: over the limit
}

// set counts the fields of set on o and below; false once over the limit.
func (w *introWalker) set(set ast.SelectionSet, o introObject) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if w.left--; w.left < 0 {
				return false
			}
			if !w.each(s.Name, o, func(c introObject) bool { return w.set(s.SelectionSet, c) }) {
				return false
			}
		case *ast.InlineFragment:
			if (s.TypeCondition == "" || s.TypeCondition == o.kind) && !w.set(s.SelectionSet, o) {
				return false
			}
		case *ast.FragmentSpread:
			if d := s.Definition; d != nil && d.TypeCondition == o.kind && !w.set(d.SelectionSet, o) {
				return false
			}
		}
	}
	return true
}

// each calls visit with each object field of o resolves to (none for a
// scalar, an enum or null) until visit returns false.
func (w *introWalker) each(field string, o introObject, visit func(introObject) bool) bool {
	named := func(d *ast.Definition) bool { return d == nil || visit(introObject{kind: "__Type", def: d}) }
	switch o.kind + "." + field {
	case "__Schema.types":
		for _, d := range w.schema.Types {
			if !named(d) {
				return false
			}
		}
	case "__Schema.queryType":
		return named(w.schema.Query)
	case "__Schema.mutationType":
		return named(w.schema.Mutation)
	case "__Schema.subscriptionType":
		return named(w.schema.Subscription)
	case "__Schema.directives":
		for _, d := range w.schema.Directives {
			if !visit(introObject{kind: "__Directive", dir: d}) {
				return false
			}
		}
	case "__Type.fields":
		if o.def != nil && (o.def.Kind == ast.Object || o.def.Kind == ast.Interface) {
			for _, f := range o.def.Fields {
				// __schema and __type are not listed.
				if !strings.HasPrefix(f.Name, "__") && !visit(introObject{kind: "__Field", field: f}) {
					return false
				}
			}
		}
	case "__Type.inputFields":
		if o.def != nil && o.def.Kind == ast.InputObject {
			for _, f := range o.def.Fields {
				if !visit(introObject{kind: "__InputValue", typ: f.Type}) {
					return false
				}
			}
		}
	case "__Type.interfaces":
		if o.def != nil && (o.def.Kind == ast.Object || o.def.Kind == ast.Interface) {
			for _, name := range o.def.Interfaces {
				if !named(w.schema.Types[name]) {
					return false
				}
			}
		}
	case "__Type.possibleTypes":
		if o.def != nil && (o.def.Kind == ast.Interface || o.def.Kind == ast.Union) {
			for _, d := range w.schema.GetPossibleTypes(o.def) {
				if !named(d) {
					return false
				}
			}
		}
	case "__Type.enumValues":
		if o.def != nil && o.def.Kind == ast.Enum {
			for range o.def.EnumValues {
				if !visit(introObject{kind: "__EnumValue"}) {
					return false
				}
			}
		}
	case "__Type.ofType":
		if t := o.typ; t != nil {
			if t.NonNull {
				inner := *t
				inner.NonNull = false
				return w.typ(&inner, visit)
			}
			return w.typ(t.Elem, visit)
		}
	case "__Field.args":
		for _, a := range o.field.Arguments {
			if !visit(introObject{kind: "__InputValue", typ: a.Type}) {
				return false
			}
		}
	case "__Field.type":
		return w.typ(o.field.Type, visit)
	case "__InputValue.type":
		return w.typ(o.typ, visit)
	case "__Directive.args":
		for _, a := range o.dir.Arguments {
			if !visit(introObject{kind: "__InputValue", typ: a.Type}) {
				return false
			}
		}
	}
	return true
}

// typ visits the __Type of t: a named type, or a wrapper (list or
// non-null) whose ofType leads on, as gqlgen's WrapTypeFromType builds it.
func (w *introWalker) typ(t *ast.Type, visit func(introObject) bool) bool {
	switch {
	case t == nil:
		return true
	case !t.NonNull && t.NamedType != "":
		d := w.schema.Types[t.NamedType]
		return d == nil || visit(introObject{kind: "__Type", def: d})
	}
	return visit(introObject{kind: "__Type", typ: t})
}
