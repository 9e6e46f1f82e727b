package e2e

// Errors and logging: internal errors on every edge (GraphQL, REST, tus,
// delivery, the auth in front of them).

import (
	"log/slog"
	"strings"
	"testing"
)

// Every 500 is logged once, with its cause and the request's ID, whichever
// edge answers it; the client sees the ID and nothing of the cause.
func TestInternalErrorsAreLoggedOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		var logs syncBuffer
		s := newTestServerLogging(t, b, &logs, slog.LevelWarn)
		// The public key is looked up (and cached) while the database is
		// up; the secret key is not.
		s.basicUpload(t, s.keys.PublicKey, "a.txt", "text/plain", []byte("a"))
		file := s.basicUpload(t, s.keys.PublicKey, "b.txt", "text/plain", []byte("b"))
		unused, _ := s.createKey(t, s.keys.SecretKey, map[string]any{"kind": "SECRET"})
		s.gql(t, s.keys.SecretKey, `{ files(first: 1) { edges { cursor } } }`, nil) // caches the secret key
		s.app.DB.Close()
		logged := func(what, id string) {
			t.Helper()
			var lines []string
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, "request_id="+id) && strings.Contains(l, "internal error") {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1 || !strings.Contains(lines[0], "closed") {
				t.Fatalf("%s: log lines for request %s: %q", what, id, lines)
			}
		}
		// GraphQL: a resolver's error, and the auth middleware's.
		for _, c := range []struct{ name, key string }{{"a GraphQL resolver", s.keys.SecretKey}, {"the GraphQL auth middleware", unused}} {
			resp, body := s.do(t, "POST", "/graphql", c.key, strings.NewReader(`{"query":"{ files(first: 1) { edges { cursor } } }"}`), jsonHeaders)
			id := resp.Header.Get("X-Request-Id")
			if payloadCode(t, body) != "INTERNAL" || !strings.Contains(string(body), `"requestId":"`+id+`"`) || strings.Contains(string(body), "closed") {
				t.Fatalf("%s: %d %s", c.name, resp.StatusCode, body)
			}
			logged(c.name, id)
		}
		for _, c := range []struct {
			name, method, path, key string
			headers                 map[string]string
			body                    string
		}{
			{"the auth middleware", "POST", "/files/basic", s.keys.SecretKey, nil, "x"},
			{"a REST upload", "POST", "/files/basic", s.keys.PublicKey, map[string]string{"Content-Type": "text/plain"}, "x"},
			{"tus creation", "POST", "/uploads/", s.keys.PublicKey, with(tusBase, "Upload-Length", "3"), ""},
			{"delivery", "GET", "/files/" + file, "", nil, ""},
		} {
			before := strings.Count(logs.String(), "internal error")
			resp, body := s.do(t, c.method, c.path, c.key, strings.NewReader(c.body), c.headers)
			id := resp.Header.Get("X-Request-Id")
			if resp.StatusCode != 500 || errorCode(t, body) != "INTERNAL" || id == "" || !strings.Contains(string(body), `"requestId":"`+id+`"`) {
				t.Fatalf("%s: %d %s (request ID %q)", c.name, resp.StatusCode, body, id)
			}
			if strings.Contains(string(body), "closed") || strings.Contains(string(body), "sql") {
				t.Fatalf("%s: the cause leaked: %s", c.name, body)
			}
			logged(c.name, id)
			if after := strings.Count(logs.String(), "internal error"); after != before+1 {
				t.Fatalf("%s: %d internal-error lines for one request", c.name, after-before)
			}
		}
	})
}
