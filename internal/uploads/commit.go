package uploads

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"satchel/models"
)

// Group commit. Every upload writes twice: its row when it begins, its File
// when it finishes. Done one transaction each, a small upload costs more in
// BEGIN/COMMIT and statement parsing than in everything else Satchel does,
// and on SQLite the writers queue for the one write lock anyway. So the
// writes that arrive while a transaction runs are queued, and the next
// transaction takes the whole queue: one multi-row INSERT of upload rows, one
// DELETE ... RETURNING of the rows being finished, one multi-row INSERT of
// files and of their tags, one commit. Nothing waits to fill a batch: alone,
// a write is a transaction of its own, as before.
//
// Each item keeps its own outcome (already finished, upload ID spent
// elsewhere). A database error fails the batch, which is then retried one
// item per transaction, so one bad item never fails the others.

// maxBatch bounds the items in one transaction.
const maxBatch = 128

// commitItem is one write: an upload row to insert, or a File to commit in
// place of its upload row.
type commitItem struct {
	insert *models.Upload
	file   *models.File
	ticket string // the upload ID spent by file ("" for none)

	err  error
	done chan struct{}
}

type committer struct {
	mu      sync.Mutex
	queue   []*commitItem
	running bool

	batches, items atomic.Int64 // transactions run, writes committed or refused
}

// CommitStats reports how many transactions the group commit ran and how
// many writes they carried.
func (s *Service) CommitStats() (transactions, writes int64) {
	return s.commits.batches.Load(), s.commits.items.Load()
}

// commit runs it in the next transaction and returns its outcome.
func (s *Service) commit(it *commitItem) error {
	it.done = make(chan struct{})
	c := &s.commits
	c.mu.Lock()
	c.queue = append(c.queue, it)
	lead := !c.running
	c.running = true
	c.mu.Unlock()
	if lead {
		// The leader runs the batch that holds its own item, then hands
		// the rest of the queue to a goroutine of its own, so that its
		// request is not kept waiting for others.
		if s.runQueued() {
			go s.drainCommits()
		}
	}
	<-it.done
	return it.err
}

// runQueued runs one batch from the queue; it reports whether more is
// queued (and c.running stays set) or not (and c.running is cleared).
func (s *Service) runQueued() bool {
	c := &s.commits
	c.mu.Lock()
	n := min(len(c.queue), maxBatch)
	batch := c.queue[:n:n]
	c.queue = c.queue[n:]
	c.mu.Unlock()
	if n > 0 {
		s.runBatch(batch)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 {
		c.running = false
		c.queue = nil
		return false
	}
	return true
}

func (s *Service) drainCommits() {
	for s.runQueued() {
	}
}

// runBatch commits batch in one transaction, or, when that fails, each item
// in one of its own.
func (s *Service) runBatch(batch []*commitItem) {
	defer func() {
		for _, it := range batch {
			close(it.done)
		}
	}()
	// The items' requests may end; their writes should not.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s.commits.items.Add(int64(len(batch)))
	err := s.inTx(ctx, batch)
	if err == nil {
		return
	}
	if len(batch) == 1 {
		batch[0].err = err
		return
	}
	for _, it := range batch {
		it.err = nil
		if err := s.inTx(ctx, []*commitItem{it}); err != nil {
			it.err = err
		}
	}
}

// inTx runs batch in a transaction of its own. A panic (in a hook, say)
// rolls it back and becomes its error: the committer must go on.
func (s *Service) inTx(ctx context.Context, batch []*commitItem) (err error) {
	s.commits.batches.Add(1)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("group commit: panic: %v", p)
		}
	}()
	if !slices.ContainsFunc(batch, func(it *commitItem) bool { return it.file != nil }) {
		// Upload rows only: one multi-row INSERT is atomic by itself, and
		// BEGIN and COMMIT would be two more round trips.
		return s.applyBatch(ctx, s.DB, batch)
	}
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return s.applyBatch(ctx, tx, batch)
	})
}

// applyBatch writes batch in tx (a transaction, unless the batch is one
// statement). Items that cannot commit for a reason of their own get that
// reason as their error and write nothing; any other error is returned and
// fails the transaction.
func (s *Service) applyBatch(ctx context.Context, tx bun.IDB, batch []*commitItem) error {
	var rows []*models.Upload
	var finishing []*commitItem
	for _, it := range batch {
		it.err = nil
		switch {
		case it.insert != nil:
			rows = append(rows, it.insert)
		case it.file != nil:
			finishing = append(finishing, it)
		}
	}
	if err := models.InsertUploads(ctx, tx, rows); err != nil {
		return err
	}
	if len(finishing) == 0 {
		return nil
	}
	// The upload rows go first: an upload whose row is gone was finished
	// (or dropped) by someone else.
	ids := make([]string, 0, len(finishing))
	for _, it := range finishing {
		ids = append(ids, it.file.ID)
	}
	deleted, err := models.DeleteUploadsReturning(ctx, tx, ids)
	if err != nil {
		return err
	}
	mine := make(map[string]bool, len(deleted))
	for _, id := range deleted {
		mine[id] = true
	}
	var candidates []*commitItem
	for _, it := range finishing {
		id := it.file.ID
		if !mine[id] {
			it.err = errAlreadyFinished
			continue
		}
		delete(mine, id) // the same upload twice in one batch: the second is late
		candidates = append(candidates, it)
	}
	candidates, err = s.chargeStorage(ctx, tx, candidates)
	if err != nil {
		return err
	}
	var files []*models.File
	for _, it := range candidates {
		if it.ticket != "" {
			// The upload ID is spent in the transaction that commits its
			// file: exactly one upload per ID wins, whatever the race.
			won, err := models.ConsumeTicket(ctx, tx, it.ticket, it.file.ID, it.file.UploadedAt)
			if err != nil {
				return err
			}
			if !won {
				it.err = ErrTicketUsed
				if t, err := models.GetTicket(ctx, tx, it.ticket); err == nil && t.ConsumedAt == nil {
					it.err = ErrTicketRevoked
				}
				if err := models.ReleaseStorage(ctx, tx, it.file.AccountID, it.file.Size); err != nil {
					return err
				}
				continue
			}
		}
		files = append(files, it.file)
	}
	if len(files) == 0 {
		return nil
	}
	if err := models.InsertFiles(ctx, tx, files); err != nil {
		return err
	}
	for _, f := range files {
		for _, h := range s.Hooks {
			if err := h.InFinish(ctx, tx, f); err != nil {
				return err
			}
		}
	}
	if s.BeforeCommit != nil {
		for _, f := range files {
			s.BeforeCommit(f.ID)
		}
	}
	return nil
}

// chargeStorage adds the items' files to their accounts' usage within the
// accounts' quotas, and returns the items that fit: each account is charged
// for all its files in one statement, or, when they do not fit together,
// file by file in order (the others get ErrQuotaExceeded).
func (s *Service) chargeStorage(ctx context.Context, tx bun.IDB, items []*commitItem) ([]*commitItem, error) {
	byAccount := map[string][]*commitItem{}
	var order []string
	for _, it := range items {
		a := it.file.AccountID
		if _, ok := byAccount[a]; !ok {
			order = append(order, a)
		}
		byAccount[a] = append(byAccount[a], it)
	}
	fit := items[:0:0]
	for _, a := range order {
		its := byAccount[a]
		var total int64
		for _, it := range its {
			total += it.file.Size
		}
		ok, err := models.ChargeStorage(ctx, tx, a, total, s.StorageQuota)
		if err != nil {
			return nil, err
		}
		if ok {
			fit = append(fit, its...)
			continue
		}
		for _, it := range its {
			if len(its) > 1 {
				if ok, err = models.ChargeStorage(ctx, tx, a, it.file.Size, s.StorageQuota); err != nil {
					return nil, err
				}
			}
			if !ok {
				it.err = ErrQuotaExceeded
				continue
			}
			fit = append(fit, it)
		}
	}
	return fit, nil
}
