package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"

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
