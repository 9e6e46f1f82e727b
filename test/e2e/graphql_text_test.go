package e2e

// Strings that are not text (a NUL character, bytes that are not UTF-8) in
// GraphQL arguments, written in the document or passed as variables,
// nested in input objects and lists: 400 BAD_USER_INPUT before anything
// runs, never INTERNAL (PostgreSQL refuses 0x00 in text, so a NUL used to
// reach the database and fail there), on SQLite and PostgreSQL.

import (
	"net/http"
	"net/url"
	"testing"
)

func TestGraphQLStringsMustBeText(t *testing.T) {
	eachDatabase(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		sec := s.keys.SecretKey
		asGraphQL := with(jsonHeaders, "Accept", "application/graphql-response+json")
		asJSON := with(jsonHeaders, "Accept", "application/json")
		own := s.basicUpload(t, sec, "own.txt", "text/plain", []byte("mine"))
		if status, r := s.gql(t, sec, `mutation { createTransformation(input: {name: "thumb", width: 10}) { name } }`, nil); status != 200 || len(r.Errors) > 0 {
			t.Fatalf("createTransformation: %d %+v", status, r.Errors)
		}
		const state = `{ transformations { name version } apiKeys { id revokedAt } files { edges { node { id } } } }`
		_, before := s.gql(t, sec, state, nil)

		type op struct {
			name, query string
			vars        map[string]any
		}
		ops := []op{
			// Mutations: literals.
			{"createTransformation name literal", `mutation { createTransformation(input: {name: "a\u0000b", width: 10}) { name } }`, nil},
			{"deleteTransformation name literal", `mutation { deleteTransformation(name: "thumb\u0000") { name } }`, nil},
			{"createApiKey name literal", `mutation { createApiKey(input: {kind: PUBLIC, name: "k\u0000"}) { key } }`, nil},
			{"createApiKey origin in a list literal", `mutation { createApiKey(input: {kind: PUBLIC, allowedOrigins: ["https://a.example", "https://b.example\u0000"]}) { key } }`, nil},
			// Mutations: variables, nested in input objects and lists.
			{"createTransformation name variable", `mutation($in: TransformationInput!) { createTransformation(input: $in) { name } }`,
				map[string]any{"in": map[string]any{"name": "a\x00b", "width": 10}}},
			{"updateTransformation name variable", `mutation($in: TransformationInput!) { updateTransformation(input: $in) { name } }`,
				map[string]any{"in": map[string]any{"name": "thumb\x00"}}},
			{"deleteTransformation name variable", `mutation($n: String!) { deleteTransformation(name: $n) { name } }`, map[string]any{"n": "\x00"}},
			{"clearTransformationCache name variable", `mutation($n: String!) { clearTransformationCache(name: $n) { name } }`, map[string]any{"n": "thumb\x00"}},
			{"createApiKey name variable", `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { key } }`,
				map[string]any{"in": map[string]any{"kind": "PUBLIC", "name": "k\x00"}}},
			{"createApiKey origins variable", `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { key } }`,
				map[string]any{"in": map[string]any{"kind": "PUBLIC", "allowedOrigins": []string{"https://a.example", "\x00"}}}},
			{"createApiKey mime types variable", `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { key } }`,
				map[string]any{"in": map[string]any{"kind": "SECRET", "allowedMimeTypes": []string{"image/*\x00"}}}},
			{"createApiKey mime type as a list variable", `mutation($m: [String!]) { createApiKey(input: {kind: PUBLIC, allowedMimeTypes: $m}) { key } }`,
				map[string]any{"m": []string{"image/png", "text/\x00"}}},
			{"createUploadTicket tag in a list of objects", `mutation($in: CreateUploadTicketInput!) { createUploadTicket(input: $in) { uploadId } }`,
				map[string]any{"in": map[string]any{"tags": []any{map[string]any{"name": "ok"}, map[string]any{"name": "t\x00"}}}}},
			{"createUploadTicket file name", `mutation($in: CreateUploadTicketInput!) { createUploadTicket(input: $in) { uploadId } }`,
				map[string]any{"in": map[string]any{"fileName": "a\x00.txt"}}},
			{"deleteFiles id in a list", `mutation($ids: [ID!]!) { deleteFiles(ids: $ids) { deletedIds } }`, map[string]any{"ids": []string{own, "\x00"}}},
			// Queries.
			{"file id literal", `{ file(id: "\u0000") { id } }`, nil},
			{"files tag filter literal", `{ files(filter: {tag: "t\u0000"}) { edges { cursor } } }`, nil},
			{"files cursor variable", `query($c: String) { files(after: $c) { edges { cursor } } }`, map[string]any{"c": "\x00"}},
			{"transformation name on a file", `query($id: ID!) { file(id: $id) { transformation(name: "thumb\u0000") { url } } }`, map[string]any{"id": own}},
			{"uploadParts file id", `query($id: ID!) { uploadParts(fileId: $id) { remainingUploadParts } }`, map[string]any{"id": "\x00"}},
		}
		var scenarios []scenario
		for _, o := range ops {
			body := gqlJSON(o.query, o.vars)
			scenarios = append(scenarios,
				scenario{name: o.name + ", graphql-response", method: "POST", url: "/graphql", key: sec, headers: asGraphQL, body: body,
					status: 400, code: "BAD_USER_INPUT", notContains: []string{`"data"`}},
				scenario{name: o.name + ", json", method: "POST", url: "/graphql", key: sec, headers: asJSON, body: body,
					status: 200, code: "BAD_USER_INPUT", notContains: []string{`"data"`}})
		}
		// Bytes that are not UTF-8: a GET query may carry any byte in a
		// string literal; a JSON body or variables must be UTF-8.
		scenarios = append(scenarios,
			scenario{name: "GET string literal not UTF-8", method: "GET", url: "/graphql?query=" + url.QueryEscape("{ file(id: \"\xff\xfe\") { id } }"), key: sec,
				headers: map[string]string{"Accept": "application/graphql-response+json"}, status: 400, code: "BAD_USER_INPUT"},
			scenario{name: "GET variables not UTF-8", method: "GET", key: sec,
				url:    "/graphql?query=" + url.QueryEscape("query($id: ID!) { file(id: $id) { id } }") + "&variables=" + url.QueryEscape("{\"id\":\"\xc3\"}"),
				status: 400, code: "BAD_USER_INPUT"},
			scenario{name: "POST variables not UTF-8", method: "POST", url: "/graphql", key: sec, headers: asGraphQL,
				body: "{\"query\":\"query($n: String!) { deleteTransformation(name: $n) { name } }\",\"variables\":{\"n\":\"thumb\xff\"}}", status: 400, code: "BAD_USER_INPUT"},
			// Text is fine, whatever its characters.
			scenario{name: "text with other control characters and emoji", method: "POST", url: "/graphql", key: sec, headers: asGraphQL,
				body:   gqlJSON(`query($id: ID!) { file(id: $id) { id } }`, map[string]any{"id": "t\x01\u00e9\U0001F600"}),
				status: 200, contains: []string{`"data":{"file":null}`}},
		)
		runScenarios(t, s, scenarios)

		// Nothing was created, changed or deleted.
		if status, after := s.gql(t, sec, state, nil); status != http.StatusOK || len(after.Errors) > 0 || string(after.Data) != string(before.Data) {
			t.Fatalf("after the refusals: %d %s %+v, before %s", status, after.Data, after.Errors, before.Data)
		}
	})
}
