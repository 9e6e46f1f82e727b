package uploads

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"satchel/internal/dbtest"
	"satchel/internal/ids"
	"satchel/internal/testdb"
	"satchel/models"
)

// Group commit, against real SQLite and PostgreSQL: many writers at once,
// in whatever batches they fall into, each get their own outcome. Upload IDs
// shared by several uploads are spent exactly once; an upload finished twice
// at once commits once; a write the database refuses fails alone.
func TestGroupCommit(t *testing.T) {
	testdb.Each(t, func(t *testing.T, b testdb.Backend) {
		ctx := t.Context()
		bdb := dbtest.Open(t, b)
		acct := &models.Account{ID: ids.New(), Name: "a", CreatedAt: 1}
		if err := models.InsertAccount(ctx, bdb, acct); err != nil {
			t.Fatal(err)
		}
		s := &Service{DB: bdb, Log: slog.New(slog.DiscardHandler)}

		const n, shared, tickets, twice = 120, 20, 5, 20
		ticketIDs := make([]string, tickets)
		for i := range ticketIDs {
			ticketIDs[i] = ids.New()
			if err := models.InsertTicket(ctx, bdb, &models.Ticket{ID: ticketIDs[i], AccountID: acct.ID, CreatedAt: 1, ExpiresAt: 1 << 60}); err != nil {
				t.Fatal(err)
			}
		}
		ups := make([]*models.Upload, n)
		for i := range ups {
			ups[i] = &models.Upload{ID: ids.New(), AccountID: acct.ID, Name: fmt.Sprint(i), Size: 1, CreatedAt: 1, ExpiresAt: 1 << 60}
			if i < shared {
				ups[i].TicketID = ticketIDs[i%tickets]
			}
		}

		// Begin: every row at once, plus one the database refuses (its
		// account does not exist).
		orphan := &models.Upload{ID: ids.New(), AccountID: ids.New(), Size: 1, CreatedAt: 1, ExpiresAt: 1 << 60}
		errs := concurrently(n+1, func(i int) error {
			if i == n {
				return s.commit(&commitItem{insert: orphan})
			}
			return s.commit(&commitItem{insert: ups[i]})
		})
		for i, err := range errs[:n] {
			if err != nil {
				t.Fatalf("insert %d: %v", i, err)
			}
		}
		if errs[n] == nil {
			t.Fatal("an upload of a missing account was inserted")
		}

		// Finish: every upload at once; the uploads [shared, shared+twice)
		// twice; one that never began.
		never := ids.New()
		jobs := n + twice + 1
		errs = concurrently(jobs, func(i int) error {
			var u *models.Upload
			switch {
			case i < n:
				u = ups[i]
			case i < n+twice:
				u = ups[shared+i-n]
			default:
				u = &models.Upload{ID: never, AccountID: acct.ID}
			}
			f := &models.File{ID: u.ID, AccountID: acct.ID, Name: u.Name, Mime: "text/plain", Size: 1, SHA256: "x",
				Tags: []models.Tag{{Name: "t", Searchable: true}}, UploadedAt: 2}
			return s.commit(&commitItem{file: f, ticket: u.TicketID})
		})
		won := map[string]int{}
		for i := range shared {
			switch err := errs[i]; {
			case err == nil:
				won[ups[i].TicketID]++
			case !errors.Is(err, ErrTicketUsed):
				t.Errorf("upload %d with a shared upload ID: %v", i, err)
			}
		}
		for _, id := range ticketIDs {
			if won[id] != 1 {
				t.Errorf("upload ID %s spent by %d uploads, want 1", id, won[id])
			}
		}
		for i := shared; i < n; i++ {
			err, again := errs[i], error(nil)
			if i < shared+twice {
				again = errs[n+i-shared]
			}
			if i >= shared+twice && err != nil {
				t.Errorf("finish %d: %v", i, err)
			}
			if i < shared+twice && (err == nil) == (again == nil) {
				t.Errorf("upload %d finished twice at once: %v and %v, want one success", i, err, again)
			}
			if i < shared+twice && err != nil && !errors.Is(err, errAlreadyFinished) || again != nil && !errors.Is(again, errAlreadyFinished) {
				t.Errorf("upload %d finished twice at once: %v and %v", i, err, again)
			}
		}
		if !errors.Is(errs[jobs-1], errAlreadyFinished) {
			t.Errorf("finishing an upload that never began: %v", errs[jobs-1])
		}

		wantFiles := n - shared + tickets
		for table, want := range map[any]int{(*models.File)(nil): wantFiles, (*models.FileTag)(nil): wantFiles, (*models.Upload)(nil): 0} {
			if got := count(ctx, t, bdb, table); got != want {
				t.Errorf("%T rows: %d, want %d", table, got, want)
			}
		}
		var spent int
		if err := bdb.NewSelect().Model((*models.Ticket)(nil)).ColumnExpr("count(*)").Where("consumed_at IS NOT NULL").Scan(ctx, &spent); err != nil || spent != tickets {
			t.Errorf("spent upload IDs: %d %v, want %d", spent, err, tickets)
		}
		t.Logf("%s: %d writes in %d transactions", b.Name, 2*n+twice+2, s.commits.batches.Load())
	})
}

// panicHook panics in the finishing transaction of one file.
type panicHook struct{ id string }

func (h panicHook) InFinish(_ context.Context, _ bun.IDB, f *models.File) error {
	if f.ID == h.id {
		panic("hook bug")
	}
	return nil
}

func (panicHook) Finished(*models.File) {}

// A finishing hook that panics fails its own file, rolled back, and the
// group commit goes on committing the others and what comes after.
func TestGroupCommitSurvivesPanic(t *testing.T) {
	testdb.Each(t, func(t *testing.T, b testdb.Backend) {
		ctx := t.Context()
		bdb := dbtest.Open(t, b)
		acct := &models.Account{ID: ids.New(), Name: "a", CreatedAt: 1}
		if err := models.InsertAccount(ctx, bdb, acct); err != nil {
			t.Fatal(err)
		}
		const n = 40
		ups := make([]*models.Upload, n)
		for i := range ups {
			ups[i] = &models.Upload{ID: ids.New(), AccountID: acct.ID, Size: 1, CreatedAt: 1, ExpiresAt: 1 << 60}
		}
		s := &Service{DB: bdb, Log: slog.New(slog.DiscardHandler), Hooks: []FinishHook{panicHook{id: ups[7].ID}}}
		finish := func(i int) error {
			return s.commit(&commitItem{file: &models.File{ID: ups[i].ID, AccountID: acct.ID, Name: "f", Mime: "text/plain", SHA256: "x", Size: 1, UploadedAt: 2}})
		}
		for i, err := range concurrently(n, func(i int) error { return s.commit(&commitItem{insert: ups[i]}) }) {
			if err != nil {
				t.Fatalf("insert %d: %v", i, err)
			}
		}
		for i, err := range concurrently(n, finish) {
			if (err != nil) != (i == 7) {
				t.Errorf("finish %d: %v", i, err)
			}
		}
		if got := count(ctx, t, bdb, (*models.File)(nil)); got != n-1 {
			t.Errorf("files: %d, want %d", got, n-1)
		}
		// The failed upload's row is still there: it can be finished later.
		if _, err := models.GetUpload(ctx, bdb, ups[7].ID); err != nil {
			t.Errorf("the failed upload's row: %v", err)
		}
		s.Hooks = nil
		if err := finish(7); err != nil {
			t.Errorf("finishing it again: %v", err)
		}
	})
}

func concurrently(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func count(ctx context.Context, t *testing.T, bdb *bun.DB, model any) int {
	t.Helper()
	n, err := bdb.NewSelect().Model(model).Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}
