package e2e

// Whole-API tables in the style of PocketBase's tests/api.go: each scenario
// is one request (name, method, URL, headers, body) and what must come back
// (status, error code, content).

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"

	"satchel/internal/config"
)

// scenario is one request against the whole server and its expectations.
type scenario struct {
	name   string
	method string
	url    string
	// key is sent as "Authorization: Bearer <key>" unless headers set
	// Authorization themselves.
	key     string
	headers map[string]string
	body    string
	// chunked sends the body with no Content-Length (Transfer-Encoding: chunked).
	chunked bool
	// expectContinue sends "Expect: 100-continue" and waits for the server
	// before sending the body, as curl does for large bodies.
	expectContinue bool

	status int
	// code is the expected error code: {"error":{"code"}} on REST and tus
	// routes, errors[0].extensions.code on /graphql. Every 4xx/5xx scenario
	// names one; "" means success (and, on /graphql, no errors at all).
	code        string
	contains    []string
	notContains []string
	// headersWant are response headers that must have exactly these values.
	headersWant map[string]string
	after       func(t *testing.T, resp *http.Response, body []byte)
}

// limitedUploads is the serverOption the bad-input tests use: a 1 MiB limit.
func limitedUploads(cfg *config.Config) { cfg.MaxUploadSize = 1 << 20 }

func (sc scenario) run(t *testing.T, s *testServer) (*http.Response, []byte) {
	t.Helper()
	var body io.Reader
	if sc.body != "" || sc.chunked {
		body = strings.NewReader(sc.body)
		if sc.chunked {
			// Hide the length: the client streams it chunked.
			body = struct{ io.Reader }{body}
		}
	}
	req, err := s.request(context.Background(), sc.method, sc.url, sc.key, body, sc.headers)
	if err != nil {
		t.Fatal(err)
	}
	hc := s.Client()
	if sc.expectContinue {
		req.Header.Set("Expect", "100-continue")
		hc = &http.Client{Transport: &http.Transport{ExpectContinueTimeout: 10 * time.Second}}
		defer hc.CloseIdleConnections()
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", sc.method, sc.url, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	sc.check(t, s, resp, data)
	return resp, data
}

func (sc scenario) check(t *testing.T, s *testServer, resp *http.Response, data []byte) {
	t.Helper()
	if resp.StatusCode != sc.status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, sc.status, clip(data))
	}
	isGraphQL := strings.HasPrefix(sc.url, "/graphql")
	if resp.StatusCode >= 400 {
		if sc.code == "" {
			t.Fatalf("scenario answers %d but names no error code", resp.StatusCode)
		}
		ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if ct != "application/json" && ct != "application/graphql-response+json" {
			t.Fatalf("error response Content-Type %q, want JSON; body %s", resp.Header.Get("Content-Type"), clip(data))
		}
	}
	if sc.method == http.MethodHead {
		if len(data) != 0 {
			t.Fatalf("HEAD answered with a body: %s", clip(data))
		}
	} else if sc.code != "" {
		if got := payloadCode(t, data); got != sc.code {
			t.Fatalf("error code %q, want %q; body %s", got, sc.code, clip(data))
		}
	} else if isGraphQL {
		var r gqlResponse
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatalf("graphql response is not JSON: %s", clip(data))
		}
		if len(r.Errors) > 0 {
			t.Fatalf("unexpected GraphQL errors: %s", clip(data))
		}
	}
	for _, c := range sc.contains {
		if !bytes.Contains(data, []byte(c)) {
			t.Errorf("body does not contain %q: %s", c, clip(data))
		}
	}
	for _, c := range append([]string{s.dataDir, "goroutine ", "runtime error", "SQLSTATE", "sqlite"}, sc.notContains...) {
		if c != "" && bytes.Contains(data, []byte(c)) {
			t.Errorf("body contains %q: %s", c, clip(data))
		}
	}
	for k, v := range sc.headersWant {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if sc.after != nil {
		sc.after(t, resp, data)
	}
}

// runScenarios runs each scenario as a subtest, in order.
func runScenarios(t *testing.T, s *testServer, scenarios []scenario) {
	t.Helper()
	seen := map[string]bool{}
	for _, sc := range scenarios {
		if seen[sc.name] {
			t.Fatalf("duplicate scenario name %q", sc.name)
		}
		seen[sc.name] = true
		t.Run(sc.name, func(t *testing.T) { sc.run(t, s) })
	}
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// stillServing checks /healthz and a normal upload (REST and tus) after
// hostile requests.
func (s *testServer) stillServing(t *testing.T) {
	t.Helper()
	resp, data := s.do(t, http.MethodGet, "/healthz", "", nil, nil)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(data, []byte(`"ok"`)) {
		t.Fatalf("/healthz: %d %s", resp.StatusCode, data)
	}
	id := s.basicUpload(t, s.keys.PublicKey, "after.txt", "text/plain", []byte("still here"))
	resp, data = s.do(t, http.MethodGet, "/files/"+id, "", nil, nil)
	if resp.StatusCode != http.StatusOK || string(data) != "still here" {
		t.Fatalf("download after bad input: %d %q", resp.StatusCode, data)
	}
	tid := s.tusUpload(t, s.keys.PublicKey, 5, tusMeta("filename", "after.bin", "filetype", "application/octet-stream"))
	if resp, data := s.tusPatch(t, tid, 0, []byte("hello")); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("tus PATCH after bad input: %d %s", resp.StatusCode, data)
	}
	code, r := s.gql(t, s.keys.SecretKey, `query($id: ID!) { file(id: $id) { name size } }`, map[string]any{"id": tid})
	if code != 200 || string(r.Data) != `{"file":{"name":"after.bin","size":5}}` {
		t.Fatalf("file after bad input: %d %s %+v", code, r.Data, r.Errors)
	}
}

func sortScenarios(sc []scenario) {
	for i := 1; i < len(sc); i++ {
		for j := i; j > 0 && sc[j].name < sc[j-1].name; j-- {
			sc[j], sc[j-1] = sc[j-1], sc[j]
		}
	}
}
