package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"satchel/internal/apperr"
	"satchel/internal/ids"
	"satchel/models"
)

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
