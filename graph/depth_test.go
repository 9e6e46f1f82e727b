package graph

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
)

// introspectionQuery has the shape of graphql-js 16's getIntrospectionQuery
// (what GraphiQL and code generators send): TypeRef spells out nine ofType.
func introspectionQuery() string {
	typeRef := "kind name"
	for range 9 {
		typeRef = "kind name ofType { " + typeRef + " }"
	}
	return `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description args(includeDeprecated: true) { ...InputValue }
    type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue {
  name description type { ...TypeRef } defaultValue isDeprecated deprecationReason
}
fragment TypeRef on __Type { ` + typeRef + ` }`
}

func TestDepthLimit(t *testing.T) {
	schema := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	const filesPage = "{ files(first: 1) { edges { cursor node { id tags { name } } } pageInfo { hasNextPage } } }"
	const underOfType = `{ __type(name: "File") { ofType { fields { type { name } } } } }`
	tests := []struct {
		name    string
		query   string
		max     int
		refused bool
	}{
		{"graphql-js introspection query", introspectionQuery(), 12, false},
		{"files page", filesPage, 12, false},
		{"files page over a lower limit", filesPage, 4, true},
		{"fields below ofType count", underOfType, 4, false},
		{"fields below ofType count, over the limit", underOfType, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQuery(schema, tt.query)
			if errs != nil {
				t.Fatalf("invalid query: %v", errs)
			}
			rc := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0]}
			err := depthLimit{max: tt.max}.MutateOperationContext(context.Background(), rc)
			if got := err != nil; got != tt.refused {
				t.Fatalf("refused = %v (%v), want %v", got, err, tt.refused)
			}
			if err != nil && (!strings.Contains(err.Message, fmt.Sprintf("deeper than %d levels", tt.max)) || err.Extensions["code"] != "BAD_USER_INPUT") {
				t.Fatalf("error = %v %v", err.Message, err.Extensions)
			}
		})
	}
}
