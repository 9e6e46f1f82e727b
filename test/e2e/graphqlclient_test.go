package e2e

// The tests' GraphQL client: operations over GraphQL-over-HTTP POSTs,
// decoded.

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
)

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// gql runs a GraphQL operation and decodes the response.
func (c *client) gql(t testing.TB, key, query string, vars map[string]any) (int, gqlResponse) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, data := c.do(t, http.MethodPost, "/graphql", key, bytes.NewReader(body), map[string]string{"Content-Type": "application/json"})
	var r gqlResponse
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("graphql response %d is not JSON: %s", resp.StatusCode, data)
	}
	return resp.StatusCode, r
}

// errCode is the first error's extensions.code, or "".
func (r gqlResponse) errCode() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}
