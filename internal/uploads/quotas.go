package uploads

import (
	"context"
	"fmt"
	"sync"
	"time"

	"satchel/internal/apperr"
	"satchel/models"
)

// Errors of the quotas.
var (
	errPendingCap = "this key has %d unfinished uploads, as many as it may have open: finish or terminate some, or let them expire"
	errQuota      = "the account's storage quota of %d bytes is used up (%d bytes used); delete files or ask for a larger quota"
)

// ErrQuotaExceeded refuses a file that does not fit in its account's quota
// when it is committed.
var ErrQuotaExceeded = apperr.New(apperr.QuotaExceeded, "the file does not fit in the account's storage quota; delete files or ask for a larger quota")

// The quotas are checked when an upload begins from figures at most a few
// seconds old (a query per upload would double the statements of a small
// one); the account's storage quota is then enforced exactly, in the
// transaction that commits each file.
const quotaCacheTTL = 2 * time.Second

type quotaCache struct {
	mu       sync.Mutex
	accounts map[string]accountUse
	keys     map[string]keyUse
}

type accountUse struct {
	used, quota int64
	at          time.Time
}

// keyUse is a key's unfinished uploads as last counted, plus those begun
// here since.
type keyUse struct {
	counted, since int64
	at             time.Time
}

// storageLeft returns the account's remaining quota (0: no quota) and
// refuses a new upload of size bytes (-1: unknown) that cannot fit.
func (s *Service) storageLeft(ctx context.Context, accountID string, size int64) (int64, error) {
	now := time.Now()
	c := &s.quotas
	c.mu.Lock()
	u, ok := c.accounts[accountID]
	c.mu.Unlock()
	if !ok || now.Sub(u.at) > quotaCacheTTL {
		a, err := models.GetAccount(ctx, s.DB, accountID)
		if err != nil {
			return 0, fmt.Errorf("load account: %w", err)
		}
		u = accountUse{used: a.BytesUsed, quota: s.QuotaOf(a), at: now}
		c.mu.Lock()
		if c.accounts == nil || len(c.accounts) > 10000 {
			c.accounts = map[string]accountUse{}
		}
		c.accounts[accountID] = u
		c.mu.Unlock()
	}
	if u.quota <= 0 {
		return 0, nil
	}
	left := u.quota - u.used
	if left <= 0 || size > left {
		return 0, &apperr.Error{Code: apperr.QuotaExceeded, Message: fmt.Sprintf(errQuota, u.quota, u.used)}
	}
	return left, nil
}

// PendingCap is the cap on a key's unfinished uploads (0: none).
func (s *Service) PendingCap(k *models.APIKey) int { return int(s.pendingCap(k)) }

// QuotaOf is an account's storage quota in bytes (0: none).
func (s *Service) QuotaOf(a *models.Account) int64 {
	if a.StorageQuota != nil {
		return *a.StorageQuota
	}
	return s.StorageQuota
}

// pendingCap returns the cap on a key's unfinished uploads (0: none): the
// server's, lowered by the key's own.
func (s *Service) pendingCap(k *models.APIKey) int64 {
	limit := int64(s.MaxPendingUploads)
	if k != nil && k.MaxPendingUploads != nil && *k.MaxPendingUploads > 0 && (limit == 0 || int64(*k.MaxPendingUploads) < limit) {
		limit = int64(*k.MaxPendingUploads)
	}
	return limit
}

// admitPending counts a new unfinished upload for key and refuses it when
// the key already has capN open. The count is re-read from the database at
// most every quotaCacheTTL, or when the estimate reaches the cap.
func (s *Service) admitPending(ctx context.Context, keyID string, capN int64) error {
	if keyID == "" || capN <= 0 {
		return nil
	}
	now := time.Now()
	c := &s.quotas
	c.mu.Lock()
	u, ok := c.keys[keyID]
	fresh := ok && now.Sub(u.at) <= quotaCacheTTL && u.counted+u.since < capN
	if fresh {
		u.since++
		c.keys[keyID] = u
	}
	c.mu.Unlock()
	if fresh {
		return nil
	}
	n, err := models.CountPendingUploadsOfKey(ctx, s.DB, keyID)
	if err != nil {
		return fmt.Errorf("count unfinished uploads: %w", err)
	}
	if n >= capN {
		return &apperr.Error{Code: apperr.QuotaExceeded, Message: fmt.Sprintf(errPendingCap, n)}
	}
	c.mu.Lock()
	if c.keys == nil || len(c.keys) > 10000 {
		c.keys = map[string]keyUse{}
	}
	c.keys[keyID] = keyUse{counted: n, since: 1, at: now}
	c.mu.Unlock()
	return nil
}

// addUse keeps the cached usage of an account in step with the files this
// process commits (delta > 0) and deletes (delta < 0).
func (s *Service) addUse(accountID string, delta int64) {
	s.quotas.mu.Lock()
	if u, ok := s.quotas.accounts[accountID]; ok {
		u.used += delta
		s.quotas.accounts[accountID] = u
	}
	s.quotas.mu.Unlock()
}

// forgetUse drops the cached usage of an account (files were deleted).
func (s *Service) forgetUse(accountID string) {
	s.quotas.mu.Lock()
	delete(s.quotas.accounts, accountID)
	s.quotas.mu.Unlock()
}
