package transport

import (
	"encoding/json"
	"testing"
)

func TestCheckParams(t *testing.T) {
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{`{"query":"{ a }"}`, true},
		{`{"query":"{ a }","operationName":null,"variables":null,"extensions":null}`, true},
		{`{"query":"query Q { a }","operationName":"Q","variables":{"a":1},"extensions":{"x":1}}`, true},
		{`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}`, true},
		{`{"qeury":"{ __typename }"}`, false},
		{`{}`, false},
		{`{"query":null}`, false},
		{`{"query":{}}`, false},
		{`{"query":1}`, false},
		{`{"query":"{ a }","operationName":1}`, false},
		{`{"query":"{ a }","variables":[7]}`, false},
		{`{"query":"{ a }","variables":"{}"}`, false},
		{`{"query":"{ a }","extensions":true}`, false},
		{`{"extensions":{"persistedQuery":null}}`, false},
		{`["query"]`, false},
		{`"query"`, false},
		{"{\"query\":\"{ a(s: \\\"\xff\\\") }\"}", false},
		{`{"query":"{ a }"`, false},
	} {
		if err := checkParams([]byte(tc.body)); (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.body, err)
		}
	}
}

// FuzzCheckParams checks that a body checkParams accepts is one gqlgen's
// transport decodes.
func FuzzCheckParams(f *testing.F) {
	for _, s := range []string{`{"query":"{ a }"}`, `{"qeury":"x"}`, `{"query":"q","variables":{"a":[1,{"b":null}]},"extensions":{}}`,
		`{"extensions":{"persistedQuery":{"version":1}}}`, `[]`, `{"query":"\u0000"}`, "{\"query\":\"\xff\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if checkParams(body) != nil {
			return
		}
		var p struct {
			Query         *string        `json:"query"`
			OperationName string         `json:"operationName"`
			Variables     map[string]any `json:"variables"`
			Extensions    map[string]any `json:"extensions"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatalf("accepted %q, which does not decode: %v", body, err)
		}
		if p.Query == nil && p.Extensions["persistedQuery"] == nil {
			t.Fatalf("accepted %q, which has no query", body)
		}
	})
}
