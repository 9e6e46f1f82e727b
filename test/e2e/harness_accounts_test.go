package e2e

// Accounts and keys, through the auth service (as the CLI makes them) and
// through GraphQL (as a client manages them), and upload IDs ("tickets").

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"satchel/internal/auth"
	"satchel/internal/ids"
)

// authService is an auth service on the test's database: a fresh one, not
// the app's (whose key cache the tests leave to the requests).
func (s *testServer) authService() *auth.Service { return &auth.Service{DB: s.app.DB} }

// newAccount creates an account named name with one key of kind
// (models.KindPublic or models.KindSecret), also named name.
func (s *testServer) newAccount(t testing.TB, name, kind string) (accountID, key string) {
	t.Helper()
	a, err := s.authService().CreateAccount(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return a.ID, s.newKey(t, a.ID, kind, auth.KeyOptions{Name: name})
}

// newKey creates a key of kind with the options o for the account.
func (s *testServer) newKey(t testing.TB, accountID, kind string, o auth.KeyOptions) string {
	t.Helper()
	key, _, err := s.authService().CreateKey(context.Background(), accountID, kind, o)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// setQuota sets the account's storage quota to quota bytes.
func (s *testServer) setQuota(t testing.TB, accountID string, quota int64) {
	t.Helper()
	if err := s.authService().SetStorageQuota(context.Background(), accountID, &quota); err != nil {
		t.Fatal(err)
	}
}

const createKeyQuery = `mutation($in: CreateApiKeyInput!) {
  createApiKey(input: $in) { key apiKey { id kind name hint allowedOrigins maxFileSize allowedMimeTypes uploadsPerMinute maxPendingUploads revokedAt } }
}`

type apiKey struct {
	ID               string   `json:"id"`
	Kind             string   `json:"kind"`
	Name             string   `json:"name"`
	Hint             string   `json:"hint"`
	AllowedOrigins   []string `json:"allowedOrigins"`
	MaxFileSize      *int64   `json:"maxFileSize"`
	AllowedMimeTypes []string `json:"allowedMimeTypes"`
	UploadsPerMinute *int     `json:"uploadsPerMinute"`
	// MaxPendingUploads is only asked for by createKey.
	MaxPendingUploads *int    `json:"maxPendingUploads"`
	RevokedAt         *string `json:"revokedAt"`
}

// createKey creates a key with the secret key and returns it.
func (s *testServer) createKey(t testing.TB, secret string, in map[string]any) (string, apiKey) {
	t.Helper()
	status, r := s.gql(t, secret, createKeyQuery, map[string]any{"in": in})
	var out struct {
		CreateAPIKey struct {
			Key    string `json:"key"`
			APIKey apiKey `json:"apiKey"`
		} `json:"createApiKey"`
	}
	if status != http.StatusOK || len(r.Errors) > 0 || json.Unmarshal(r.Data, &out) != nil {
		t.Fatalf("createApiKey(%v): %d %s %+v", in, status, r.Data, r.Errors)
	}
	k := out.CreateAPIKey
	kind := strings.ToLower(k.APIKey.Kind)
	if !regexp.MustCompile(`^`+kind+`_[0-9A-Za-z]{32}$`).MatchString(k.Key) || !ids.Valid(k.APIKey.ID) {
		t.Fatalf("createApiKey: key %q id %q", k.Key, k.APIKey.ID)
	}
	return k.Key, k.APIKey
}

// listKeys runs apiKeys with key and returns the keys and the raw data.
func (s *testServer) listKeys(t testing.TB, key string) ([]apiKey, []byte) {
	t.Helper()
	status, r := s.gql(t, key, `{ apiKeys { id kind name hint allowedOrigins maxFileSize allowedMimeTypes uploadsPerMinute revokedAt } }`, nil)
	var out struct {
		APIKeys []apiKey `json:"apiKeys"`
	}
	if status != http.StatusOK || len(r.Errors) > 0 || json.Unmarshal(r.Data, &out) != nil {
		t.Fatalf("apiKeys: %d %s %+v", status, r.Data, r.Errors)
	}
	return out.APIKeys, r.Data
}

// ---------------------------------------------------------------------------
// Upload IDs

type ticket struct {
	UploadID    string    `json:"uploadId"`
	ExpiresAt   time.Time `json:"expiresAt"`
	UploadURL   string    `json:"uploadUrl"`
	TusEndpoint string    `json:"tusEndpoint"`
}

const createTicketQuery = `mutation($in: CreateUploadTicketInput!) {
  createUploadTicket(input: $in) { uploadId expiresAt uploadUrl tusEndpoint }
}`

var idPattern = regexp.MustCompile(`^[0-9A-Za-z]{22}$`)

// tryTicket runs createUploadTicket and returns the raw outcome.
func (s *testServer) tryTicket(t testing.TB, key string, in map[string]any) (int, gqlResponse, *ticket) {
	t.Helper()
	if in == nil {
		in = map[string]any{}
	}
	status, r := s.gql(t, key, createTicketQuery, map[string]any{"in": in})
	var out struct {
		CreateUploadTicket *ticket `json:"createUploadTicket"`
	}
	if len(r.Data) > 0 && string(r.Data) != "null" {
		if err := json.Unmarshal(r.Data, &out); err != nil {
			t.Fatalf("createUploadTicket data %s: %v", r.Data, err)
		}
	}
	return status, r, out.CreateUploadTicket
}

// newTicket mints a ticket with key (the bootstrap secret when "").
func (s *testServer) newTicket(t testing.TB, key string, in map[string]any) ticket {
	t.Helper()
	if key == "" {
		key = s.keys.SecretKey
	}
	status, r, tk := s.tryTicket(t, key, in)
	if status != http.StatusOK || len(r.Errors) > 0 || tk == nil || !idPattern.MatchString(tk.UploadID) {
		t.Fatalf("createUploadTicket(%v): %d %s %+v", in, status, r.Data, r.Errors)
	}
	return *tk
}

// waitExpired sleeps until the ticket has expired.
func waitExpired(tk ticket) {
	time.Sleep(time.Until(tk.ExpiresAt) + 50*time.Millisecond)
}
