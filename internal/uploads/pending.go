package uploads

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"satchel/internal/ids"
	"satchel/models"
)

// Pending rows: the rows of unfinished uploads, read (Pending, pending),
// cached and dropped (drop, Abort).
//
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

// Pending returns an unfinished upload.
func (s *Service) Pending(ctx context.Context, id string) (*models.Upload, error) {
	if !ids.Valid(id) {
		return nil, ErrUploadNotFound
	}
	u, err := models.GetUpload(ctx, s.DB, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrUploadNotFound
	}
	return u, err
}

// dropUpload deletes an unfinished upload's row and bytes, logging failures.
func (s *Service) dropUpload(ctx context.Context, id string) {
	if err := s.drop(ctx, &models.Upload{ID: id}); err != nil {
		s.Log.WarnContext(ctx, "drop upload", "id", id, "err", err)
	}
}

// drop deletes an unfinished upload: its row, then its bytes and, for a
// multipart session, its part rows. A failed row delete is returned with
// nothing else touched; later failures are logged (the bytes of an upload
// without a row are unreachable). A session's storage goes first, while
// its row still names it (S3's multipart upload); a failure to drop it is
// returned too.
func (s *Service) drop(ctx context.Context, u *models.Upload) error {
	if mb, ok := s.Bytes.(MultipartBytes); ok && u.Parts > 0 {
		if err := mb.AbortSession(ctx, u.ID); err != nil {
			return err
		}
	}
	if err := models.DeleteUpload(ctx, s.DB, u.ID); err != nil {
		return err
	}
	s.rows.forget(u.ID)
	if err := s.Bytes.Delete(ctx, u.ID); err != nil {
		s.Log.WarnContext(ctx, "drop upload bytes", "id", u.ID, "err", err)
	}
	if u.Parts > 0 {
		if err := models.DeleteParts(ctx, s.DB, u.ID); err != nil {
			s.Log.WarnContext(ctx, "drop upload parts", "id", u.ID, "err", err)
		}
	}
	return nil
}

// Abort forgets an upload that was terminated by its client.
func (s *Service) Abort(ctx context.Context, id string) { s.dropUpload(ctx, id) }
