package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"satchel/app"
	"satchel/internal/auth"
	"satchel/internal/config"
	"satchel/internal/ids"
	"satchel/internal/testdb"
)

// testServer is a Satchel wired exactly as `satchel serve` wires it, on
// httptest, over a real database and a real filestore.
type testServer struct {
	*httptest.Server
	app     *app.App
	cfg     config.Config
	keys    auth.BootstrapKeys
	dataDir string
}

type serverOption func(*config.Config)

func newTestServer(t testing.TB, b testdb.Backend, opts ...serverOption) *testServer {
	t.Helper()
	return newTestServerLogging(t, b, os.Stderr, slog.LevelWarn, opts...)
}

// newTestServerLogging is newTestServer with its log written to w from level on.
func newTestServerLogging(t testing.TB, b testdb.Backend, w io.Writer, level slog.Level, opts ...serverOption) *testServer {
	t.Helper()
	dir := t.TempDir()
	ts := httptest.NewUnstartedServer(nil)
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.DatabaseURL = b.URL
	cfg.Addr = ts.Listener.Addr().String()
	cfg.PublicURL = "http://" + cfg.Addr
	cfg.LogLevel = "warn"
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
	a, err := app.New(context.Background(), cfg, log, io.Discard)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	ts.Config.Handler = a.Handler
	ts.Start()
	workers, stopWorkers := context.WithCancel(context.Background())
	workersDone := make(chan struct{})
	go func() { defer close(workersDone); a.Images.Run(workers, 2) }()
	t.Cleanup(func() {
		stopWorkers()
		<-workersDone
		ts.CloseClientConnections()
		ts.Close()
		a.Close()
	})
	s := &testServer{Server: ts, app: a, cfg: cfg, dataDir: cfg.DataDir}
	raw, err := os.ReadFile(cfg.DataDir + "/bootstrap-keys.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &s.keys); err != nil {
		t.Fatal(err)
	}
	return s
}

// do sends a request with an optional bearer key and returns the response
// with its body read.
func (s *testServer) do(t testing.TB, method, path, key string, body io.Reader, headers map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// gql runs a GraphQL operation and decodes the response.
func (s *testServer) gql(t testing.TB, key, query string, vars map[string]any) (int, gqlResponse) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, data := s.do(t, http.MethodPost, "/graphql", key, bytes.NewReader(body), map[string]string{"Content-Type": "application/json"})
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

// errorCode reads the {"error":{"code"}} payload of a REST or tus response.
func errorCode(t testing.TB, body []byte) string {
	t.Helper()
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" {
		t.Fatalf("not an error payload: %q", body)
	}
	if strings.TrimSpace(e.Error.Message) == "" {
		t.Fatalf("error without message: %q", body)
	}
	return e.Error.Code
}

// waitFor polls cond until it is true or the deadline passes.
func waitFor(t testing.TB, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("condition not met in time")
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// uploadedID checks a one-shot upload's answer (200 with fileId and its
// fileUrl) and returns the file ID.
func (s *testServer) uploadedID(t testing.TB, what string, resp *http.Response, data []byte) string {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", what, resp.StatusCode, data)
	}
	var r struct{ FileID, FileURL string }
	if err := json.Unmarshal(data, &r); err != nil || !ids.Valid(r.FileID) || r.FileURL != s.cfg.PublicURL+"/files/"+r.FileID {
		t.Fatalf("%s: response %s", what, data)
	}
	return r.FileID
}
