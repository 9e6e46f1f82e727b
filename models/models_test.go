package models_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"satchel/internal/dbtest"
	"satchel/internal/testdb"
	"satchel/models"
)

// open returns a migrated database of backend b with one account, and a
// hook that records the statements run while it is on.
func open(t *testing.T, b testdb.Backend) (*bun.DB, *sqlHook, string) {
	t.Helper()
	ctx := t.Context()
	bdb := dbtest.Open(t, b)
	const acct = "ModelsAccount000000001"
	if err := models.InsertAccount(ctx, bdb, &models.Account{ID: acct, Name: "a", CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
	h := &sqlHook{}
	bdb.AddQueryHook(h)
	return bdb, h, acct
}

// sqlHook records the SQL of the statements run between start and stop.
type sqlHook struct {
	mu      sync.Mutex
	on      bool
	queries []string
}

func (h *sqlHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (h *sqlHook) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.on {
		h.queries = append(h.queries, e.Query)
	}
}

func (h *sqlHook) start() {
	h.mu.Lock()
	h.on, h.queries = true, nil
	h.mu.Unlock()
}

func (h *sqlHook) stop() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.on = false
	return slices.Clone(h.queries)
}

// wantSQL fails unless the statements run by f are want, in order.
func wantSQL(t *testing.T, h *sqlHook, want []string, f func()) {
	t.Helper()
	h.start()
	f()
	if got := h.stop(); !slices.Equal(got, want) {
		t.Errorf("statements:\n got %q\nwant %q", got, want)
	}
}
