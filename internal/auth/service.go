package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"satchel/internal/apperr"
	"satchel/internal/ids"
	"satchel/internal/mimes"
	"satchel/models"
)

// Service authenticates keys and manages accounts and keys.
type Service struct {
	DB bun.IDB
	// PublicURL is the server's own origin: secret keys are refused on
	// browser requests from any other origin.
	PublicURL string

	cache keyCache
}

// keyTTL is how long a looked-up key is trusted without asking the
// database again. Revoking a key clears it from this instance's cache at
// once; other instances notice within keyTTL.
const keyTTL = 10 * time.Second

// keyCache remembers recent key lookups by hash, so a burst of requests
// with one key costs one query.
type keyCache struct {
	mu sync.Mutex
	m  map[string]cachedKey
}

type cachedKey struct {
	key *models.APIKey
	at  time.Time
}

func (c *keyCache) get(hash string) *models.APIKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[hash]
	if !ok || time.Since(e.at) > keyTTL {
		return nil
	}
	return e.key
}

func (c *keyCache) put(hash string, k *models.APIKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= 10000 {
		c.m = map[string]cachedKey{} // bounded: start over rather than grow
	}
	c.m[hash] = cachedKey{key: k, at: time.Now()}
}

func (c *keyCache) forget(keyID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, e := range c.m {
		if e.key.ID == keyID {
			delete(c.m, h)
		}
	}
}

// Authenticate resolves a presented key to its principal.
func (s *Service) Authenticate(ctx context.Context, plain string) (*Principal, error) {
	if kindOf(plain) == "" {
		return nil, ErrUnauthenticated
	}
	hash := HashKey(plain)
	k := s.cache.get(hash)
	if k == nil {
		var err error
		k, err = models.GetAPIKeyByHash(ctx, s.DB, hash)
		if errors.Is(err, models.ErrNotFound) {
			return nil, ErrUnauthenticated
		}
		if err != nil {
			return nil, fmt.Errorf("look up key: %w", err)
		}
		s.cache.put(hash, k)
	}
	// The row was found by hash; compare again in constant time so that
	// correctness never rests on the index alone.
	if !hashesEqual(k.Hash, hash) || k.Kind != kindOf(plain) {
		return nil, ErrUnauthenticated
	}
	return &Principal{AccountID: k.AccountID, Key: k}, nil
}

// Credential extracts the key from an Authorization header: "Bearer <key>" or
// Basic with user "apikey". present is false when there is no header.
func Credential(r *http.Request) (key string, present bool, err error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false, nil
	}
	scheme, rest, _ := strings.Cut(h, " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(scheme) {
	case "bearer":
		if rest == "" {
			return "", true, ErrUnauthenticated
		}
		return rest, true, nil
	case "basic":
		raw, derr := base64.StdEncoding.DecodeString(rest)
		if derr != nil {
			return "", true, ErrUnauthenticated
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok || user != "apikey" || pass == "" {
			return "", true, ErrUnauthenticated
		}
		return pass, true, nil
	}
	return "", true, ErrUnauthenticated
}

// Middleware authenticates the request's key, if any, and stores the
// principal in the context. A bad key is answered at once with writeErr; no
// key passes through (the route decides whether it needs one).
func (s *Service) Middleware(writeErr func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key, present, err := Credential(r)
			if !present {
				next.ServeHTTP(w, r)
				return
			}
			var p *Principal
			if err == nil {
				p, err = s.Authenticate(r.Context(), key)
			}
			if err == nil && p.Secret() && s.crossOrigin(r) {
				err = apperr.New(apperr.Forbidden, "secret keys must not be used from a browser on another origin; use a public key or an upload ID")
			}
			if err == nil && !OriginAllowed(p.Key.Origins, r.Header.Get("Origin")) {
				err = apperr.New(apperr.Forbidden, "this key is not allowed from this origin")
			}
			if err != nil {
				writeErr(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		})
	}
}

// crossOrigin reports whether a browser sent r from an origin other than the
// server's own: the origin (scheme, host, port) of its public URL. The
// request's Host is not trusted for this: any client can set it.
func (s *Service) crossOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	own, ok := NormalizeOrigin(s.PublicURL)
	if !ok {
		return true
	}
	got, ok := NormalizeOrigin(origin)
	return !ok || got != own
}

// OriginAllowed reports whether a browser request from origin may use a key
// restricted to allowed origins. Requests without an Origin (servers, CLIs)
// and keys without restrictions are always allowed.
func OriginAllowed(allowed []string, origin string) bool {
	if len(allowed) == 0 || origin == "" {
		return true
	}
	got, ok := NormalizeOrigin(origin)
	if !ok {
		return false
	}
	for _, a := range allowed {
		if want, ok := NormalizeOrigin(a); ok && want == got {
			return true
		}
	}
	return false
}

// NormalizeOrigin reduces a URL or an Origin header to scheme://host[:port]
// in lower case, without the scheme's default port. ok is false for
// anything that is not an http(s) origin ("null", opaque or relative URLs).
func NormalizeOrigin(raw string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.User != nil {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" {
		return "", false
	}
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, true
}

// CreateAccount creates an account named name.
func (s *Service) CreateAccount(ctx context.Context, name string) (*models.Account, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return nil, apperr.New(apperr.BadUserInput, "account name must be 1 to 200 characters")
	}
	a := &models.Account{ID: ids.New(), Name: name, CreatedAt: models.Micros(time.Now())}
	if err := models.InsertAccount(ctx, s.DB, a); err != nil {
		return nil, fmt.Errorf("insert account: %w", err)
	}
	return a, nil
}

// Account returns an account.
func (s *Service) Account(ctx context.Context, id string) (*models.Account, error) {
	a, err := models.GetAccount(ctx, s.DB, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, apperr.New(apperr.NotFound, "account not found")
	}
	return a, err
}

// SetStorageQuota sets an account's storage quota in bytes (0: none; nil:
// the server's default). Operators set it (the CLI); accounts cannot.
func (s *Service) SetStorageQuota(ctx context.Context, id string, quota *int64) error {
	if quota != nil && *quota < 0 {
		return apperr.New(apperr.BadUserInput, "the storage quota must not be negative")
	}
	err := models.SetStorageQuota(ctx, s.DB, id, quota)
	if errors.Is(err, models.ErrNotFound) {
		return apperr.New(apperr.NotFound, "account not found")
	}
	return err
}

// KeyOptions are the optional rules of a new key.
type KeyOptions struct {
	Name             string
	Origins          []string
	MaxFileSize      int64
	MimeTypes        []string
	UploadsPerMinute int
	// MaxPendingUploads lowers the server's cap on the key's unfinished
	// uploads (nil: the server's cap).
	MaxPendingUploads *int
}

// CreateKey creates a key of kind for the account and returns the plain key,
// which is shown once and never stored.
func (s *Service) CreateKey(ctx context.Context, accountID, kind string, opt KeyOptions) (string, *models.APIKey, error) {
	if kind != models.KindPublic && kind != models.KindSecret {
		return "", nil, apperr.New(apperr.BadUserInput, "kind must be public or secret")
	}
	if len(opt.Name) > 200 {
		return "", nil, apperr.New(apperr.BadUserInput, "key name must be at most 200 characters")
	}
	if opt.MaxFileSize < 0 || opt.UploadsPerMinute < 0 || (opt.MaxPendingUploads != nil && *opt.MaxPendingUploads < 1) {
		return "", nil, apperr.New(apperr.BadUserInput, "maxFileSize and uploadsPerMinute must not be negative, maxPendingUploads must be positive")
	}
	if len(opt.Origins) > 50 || len(opt.MimeTypes) > 50 {
		return "", nil, apperr.New(apperr.BadUserInput, "at most 50 origins and 50 MIME types per key")
	}
	for _, m := range opt.MimeTypes {
		if !mimes.ValidPattern(m) {
			return "", nil, apperr.Newf(apperr.BadUserInput, "MIME type %q is not a type or pattern like image/*", m)
		}
	}
	for _, o := range opt.Origins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
			return "", nil, apperr.Newf(apperr.BadUserInput, "origin %q must look like https://example.com", o)
		}
	}
	if _, err := models.GetAccount(ctx, s.DB, accountID); err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return "", nil, apperr.New(apperr.NotFound, "account not found")
		}
		return "", nil, err
	}
	plain, hash, hint := GenerateKey(kind)
	k := &models.APIKey{
		ID: ids.New(), AccountID: accountID, Kind: kind, Hash: hash, Hint: hint, Name: opt.Name,
		Origins: opt.Origins, MaxFileSize: opt.MaxFileSize, MimeTypes: opt.MimeTypes,
		UploadsPerMinute: opt.UploadsPerMinute, MaxPendingUploads: opt.MaxPendingUploads, CreatedAt: models.Micros(time.Now()),
	}
	if err := models.InsertAPIKey(ctx, s.DB, k); err != nil {
		return "", nil, fmt.Errorf("insert key: %w", err)
	}
	return plain, k, nil
}

// BootstrapKeys is the content of bootstrap-keys.json.
type BootstrapKeys struct {
	AccountID string `json:"accountId"`
	PublicKey string `json:"publicKey"`
	SecretKey string `json:"secretKey"`
}

// Bootstrap creates the "default" account with one public and one secret key
// when the database has no account, and writes them to
// dataDir/bootstrap-keys.json (mode 0600). It returns nil when there was
// nothing to do.
func (s *Service) Bootstrap(ctx context.Context, dataDir string) (*BootstrapKeys, error) {
	n, err := models.CountAccounts(ctx, s.DB)
	if err != nil {
		return nil, fmt.Errorf("count accounts: %w", err)
	}
	if n > 0 {
		return nil, nil
	}
	a, err := s.CreateAccount(ctx, "default")
	if err != nil {
		return nil, err
	}
	pub, _, err := s.CreateKey(ctx, a.ID, models.KindPublic, KeyOptions{Name: "bootstrap"})
	if err != nil {
		return nil, err
	}
	sec, _, err := s.CreateKey(ctx, a.ID, models.KindSecret, KeyOptions{Name: "bootstrap"})
	if err != nil {
		return nil, err
	}
	b := &BootstrapKeys{AccountID: a.ID, PublicKey: pub, SecretKey: sec}
	data, _ := json.MarshalIndent(b, "", "  ")
	path := filepath.Join(dataDir, "bootstrap-keys.json")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	// WriteFile keeps the mode of an existing file; make sure it is 0600.
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, err
	}
	return b, nil
}

// ListKeys returns the account's keys (their hashes never leave here).
func (s *Service) ListKeys(ctx context.Context, accountID string) ([]models.APIKey, error) {
	return models.ListAPIKeys(ctx, s.DB, accountID)
}

// RevokeKey revokes one of the account's keys; another account's key is
// NOT_FOUND.
func (s *Service) RevokeKey(ctx context.Context, accountID, id string) (*models.APIKey, error) {
	if !ids.Valid(id) {
		return nil, apperr.New(apperr.NotFound, "key not found")
	}
	k, err := models.RevokeAPIKey(ctx, s.DB, accountID, id, models.Micros(time.Now()))
	s.cache.forget(id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, apperr.New(apperr.NotFound, "key not found")
	}
	return k, err
}
