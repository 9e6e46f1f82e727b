package uploads

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"satchel/internal/ids"
	"satchel/models"
)

// The tus endpoint needs an upload's row on every PATCH (is it resumable?)
// and when it finishes; the row never changes after its transaction. So the
// rows of uploads begun by this process are kept in memory for a while, and
// the chunk path makes no query. An entry is dropped when its upload finishes
// or is dropped here, and is trusted for pendingTTL at most: another
// instance may have finished the upload meanwhile, which the finishing
// transaction detects anyway (its DELETE finds no row).
//
// Only uses that stay correct with a stale row read it: finishing and the
// resumable check. Deleting an upload (tus termination) reads the database.
const (
	pendingTTL = 30 * time.Second
	pendingMax = 100_000 // entries; beyond, rows are read from the database
)

type pendingCache struct {
	m sync.Map // id -> pendingEntry
	n atomic.Int64
}

type pendingEntry struct {
	u  *models.Upload
	at time.Time
}

func (c *pendingCache) put(u *models.Upload, now time.Time) {
	u = new(*u) // the caller's copy may change
	if c.n.Load() >= pendingMax {
		return
	}
	if _, loaded := c.m.Swap(u.ID, pendingEntry{u: u, at: now}); !loaded {
		c.n.Add(1)
	}
}

func (c *pendingCache) get(id string, now time.Time) *models.Upload {
	v, ok := c.m.Load(id)
	if !ok {
		return nil
	}
	e := v.(pendingEntry)
	if now.Sub(e.at) > pendingTTL {
		c.forget(id)
		return nil
	}
	return e.u
}

func (c *pendingCache) forget(id string) {
	if _, loaded := c.m.LoadAndDelete(id); loaded {
		c.n.Add(-1)
	}
}

// purge drops entries older than pendingTTL.
func (c *pendingCache) purge(now time.Time) {
	c.m.Range(func(k, v any) bool {
		if now.Sub(v.(pendingEntry).at) > pendingTTL {
			c.forget(k.(string))
		}
		return true
	})
}

// pending returns an unfinished upload, from memory when this process began
// it recently. The row must not be modified.
func (s *Service) pending(ctx context.Context, id string) (*models.Upload, error) {
	if !ids.Valid(id) {
		return nil, ErrUploadNotFound
	}
	if u := s.rows.get(id, time.Now()); u != nil {
		return u, nil
	}
	return s.Pending(ctx, id)
}
