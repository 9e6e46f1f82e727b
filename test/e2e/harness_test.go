package e2e

// The harness: a Satchel wired exactly as `satchel serve` wires it (app.New),
// in-process on httptest, over a real database (internal/testdb: SQLite or
// PostgreSQL) and a real byte store (the filestore, or a bucket on a real
// S3 server), with its bootstrap keys; and the client
// every test talks to a Satchel with, in-process or a child process; the
// one-shot uploads, the assertions on answers and test content. The rest
// of the harness: harness_tus_test.go (the tus client),
// harness_graphql_test.go (the GraphQL client), harness_accounts_test.go
// (accounts, keys, upload IDs), harness_store_test.go (the databases and
// stores a test runs on), harness_state_test.go (what an upload leaves
// behind, on either store), harness_scenario_test.go (whole-API tables),
// harness_process_test.go (the real binary, for the crash tests).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
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
)

// testServer is a Satchel wired exactly as `satchel serve` wires it, on
// httptest, over a real database and a real byte store. Its client sends to
// it; its render workers run until the test ends.
type testServer struct {
	*httptest.Server
	client
	app     *app.App
	cfg     config.Config
	keys    auth.BootstrapKeys
	dataDir string
	// bucket is where the bytes are on S3 (nil on the filestore).
	bucket *s3Bucket
}

// serverOption changes the configuration a test server starts with.
type serverOption func(*config.Config)

// newTestServer starts a Satchel on b's database and store (on S3, a
// fresh bucket of its own, in parts of S3's smallest size).
func newTestServer(t testing.TB, b backend, opts ...serverOption) *testServer {
	t.Helper()
	return newTestServerLogging(t, b, os.Stderr, slog.LevelWarn, opts...)
}

// newTestServerLogging is newTestServer with its log written to w from level on.
func newTestServerLogging(t testing.TB, b backend, w io.Writer, level slog.Level, opts ...serverOption) *testServer {
	t.Helper()
	dir := t.TempDir()
	ts := httptest.NewUnstartedServer(nil)
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.DatabaseURL = b.URL
	cfg.Addr = ts.Listener.Addr().String()
	cfg.PublicURL = "http://" + cfg.Addr
	cfg.LogLevel = "warn"
	var bucket *s3Bucket
	switch b.Store {
	case fileStore:
	case s3Store:
		bucket = newS3Bucket(t)
		cfg.Storage = bucket.storage()
		cfg.S3PartSize = e2ePartSize
	default:
		t.Fatalf("unknown store %q", b.Store)
	}
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
	s := &testServer{Server: ts, client: client{base: ts.URL, hc: ts.Client()}, app: a, cfg: cfg, dataDir: cfg.DataDir, bucket: bucket}
	raw, err := os.ReadFile(cfg.DataDir + "/bootstrap-keys.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &s.keys); err != nil {
		t.Fatal(err)
	}
	return s
}

// client sends requests to one Satchel at base, which is also its public
// URL: a test's in-process server, or a child process of the crash tests.
type client struct {
	base string
	hc   *http.Client
	// timeout bounds each request (none when 0). strict fails the test on
	// an answer whose body cannot be read, not only on one that never came.
	timeout time.Duration
	strict  bool
}

// request is method base+path with the bearer key when set and the
// headers (which may set Authorization themselves).
func (c *client) request(ctx context.Context, method, path, key string, body io.Reader, headers map[string]string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return req, nil
}

// send sends a request and reads the answer. It calls no t: goroutines
// use it, and the crash tests for requests a dying process cuts.
func (c *client) send(method, path, key string, body io.Reader, headers map[string]string) (*http.Response, []byte, error) {
	ctx := context.Background()
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req, err := c.request(ctx, method, path, key, body, headers)
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp, data, err
}

// do sends a request with an optional bearer key and returns the response
// with its body read; a request that gets no answer fails t.
func (c *client) do(t testing.TB, method, path, key string, body io.Reader, headers map[string]string) (*http.Response, []byte) {
	t.Helper()
	resp, data, err := c.send(method, path, key, body, headers)
	if resp == nil || (err != nil && c.strict) {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp, data
}

// with returns base plus the headers kv (pairs of name and value).
func with(base map[string]string, kv ...string) map[string]string {
	h := map[string]string{}
	for k, v := range base {
		h[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		h[kv[i]] = kv[i+1]
	}
	return h
}

// ---------------------------------------------------------------------------
// One-shot uploads: POST /files/basic with a key, POST /files/public/{uploadId} with an upload ID

// postBasic sends POST /files/basic with key.
func (s *testServer) postBasic(t *testing.T, key string, body []byte, headers map[string]string) (*http.Response, []byte) {
	t.Helper()
	return s.do(t, http.MethodPost, "/files/basic", key, bytes.NewReader(body), headers)
}

// basicUpload uploads body through POST /files/basic and returns the file ID.
func (s *testServer) basicUpload(t testing.TB, key, name, mimeType string, body []byte) string {
	t.Helper()
	resp, data := s.do(t, http.MethodPost, "/files/basic", key, bytes.NewReader(body),
		map[string]string{"X-Upload-File-Name": name, "Content-Type": mimeType})
	return s.uploadedID(t, "basic upload "+name, resp, data)
}

// postPublic sends a one-shot POST /files/public/{uploadId} with no key.
func (s *testServer) postPublic(t *testing.T, uploadID string, body []byte, headers map[string]string) (*http.Response, []byte) {
	t.Helper()
	return s.do(t, http.MethodPost, "/files/public/"+uploadID, "", bytes.NewReader(body), headers)
}

// publicUpload uploads through POST /files/public/{uploadId} and returns the
// file ID.
func (s *testServer) publicUpload(t *testing.T, uploadID string, body []byte, headers map[string]string) string {
	t.Helper()
	resp, data := s.postPublic(t, uploadID, body, headers)
	return s.uploadedID(t, "POST /files/public/"+uploadID, resp, data)
}

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

// ---------------------------------------------------------------------------
// Assertions on answers

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

// payloadCode reads the error code of a REST/tus payload or a GraphQL
// response; every error must carry a non-empty message too.
func payloadCode(t testing.TB, body []byte) string {
	t.Helper()
	var p struct {
		Error  json.RawMessage `json:"error"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("error response is not JSON: %s", clip(body))
	}
	if len(p.Error) > 0 {
		return errorCode(t, body)
	}
	if len(p.Errors) == 0 {
		t.Fatalf("no error in response: %s", clip(body))
	}
	for _, e := range p.Errors {
		if strings.TrimSpace(e.Message) == "" {
			t.Fatalf("GraphQL error without message: %s", clip(body))
		}
		if c, _ := e.Extensions["code"].(string); c == "" {
			t.Fatalf("GraphQL error without extensions.code: %s", clip(body))
		}
	}
	c, _ := p.Errors[0].Extensions["code"].(string)
	return c
}

// wantError checks an error answer of a REST or tus route: the status, a
// JSON Content-Type and the {"error":{"code","message"}} payload's code.
func wantError(t *testing.T, what string, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s: status %d, want %d (%s); body %s", what, resp.StatusCode, status, code, body)
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if ct != "application/json" {
		t.Fatalf("%s: Content-Type %q, want application/json; body %s", what, resp.Header.Get("Content-Type"), body)
	}
	if got := errorCode(t, body); got != code {
		t.Fatalf("%s: code %q, want %q; body %s", what, got, code, body)
	}
}

func wantCode(t testing.TB, what string, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status || errorCode(t, body) != code {
		t.Fatalf("%s: %d %s, want %d %s", what, resp.StatusCode, body, status, code)
	}
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
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

// ---------------------------------------------------------------------------
// Content

// fill is some deterministic content of n bytes.
func fill(tag string, n int) []byte {
	b := bytes.Repeat([]byte(tag+"-"), n/(len(tag)+1)+1)
	return b[:n]
}

func pseudoRandom(seed uint64, n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}).Read(b)
	return b
}

var (
	fakePNG    = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0}, 600)...)
	scriptHTML = []byte("<!DOCTYPE html><html><body><script>alert(document.cookie)</script>" + strings.Repeat(" ", 600) + "</body></html>")
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func shaHex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
