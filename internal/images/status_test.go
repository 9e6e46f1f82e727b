package images

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/uptrace/bun"

	"satchel/internal/dbtest"
	"satchel/internal/ids"
	"satchel/internal/testdb"
	"satchel/models"
)

// queryCounter counts the queries a database runs.
type queryCounter struct{ n atomic.Int64 }

func (c *queryCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	c.n.Add(1)
	return ctx
}

func (*queryCounter) AfterQuery(context.Context, *bun.QueryEvent) {}

// Renditions tells each file's result for the preset's current version,
// in two queries for one account whatever the number of files.
func TestRenditions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, b testdb.Backend) {
		ctx := context.Background()
		bdb := dbtest.Open(t, b)
		acct, other := ids.New(), ids.New()
		for _, id := range []string{acct, other} {
			if err := models.InsertAccount(ctx, bdb, &models.Account{ID: id, Name: id, CreatedAt: 1}); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range []*models.Transformation{
			{AccountID: acct, Name: "thumb", Fit: "cover", Version: 2, CreatedAt: 1, UpdatedAt: 1},
			{AccountID: acct, Name: "big", Fit: "cover", Version: 1, CreatedAt: 1, UpdatedAt: 1},
		} {
			if err := models.InsertTransformation(ctx, bdb, p); err != nil {
				t.Fatal(err)
			}
		}
		ready, failed, stale, none := ids.New(), ids.New(), ids.New(), ids.New()
		for _, j := range []*models.TransformJob{
			{FileID: ready, Name: "thumb", Version: 2, Status: models.JobReady, Width: 16, Height: 9, Size: 300, Mime: "image/webp"},
			{FileID: ready, Name: "big", Version: 1, Status: models.JobFailed},
			{FileID: failed, Name: "thumb", Version: 2, Status: models.JobFailed, Error: "NOT_AN_IMAGE"},
			{FileID: stale, Name: "thumb", Version: 1, Status: models.JobReady, Width: 1, Height: 1, Size: 1, Mime: "image/png"},
		} {
			j.AccountID, j.CreatedAt, j.UpdatedAt = acct, 1, 1
			if err := models.UpsertJob(ctx, bdb, j); err != nil {
				t.Fatal(err)
			}
		}
		count := &queryCounter{}
		bdb.AddQueryHook(count)
		s := &Service{DB: bdb, Log: slog.New(slog.DiscardHandler)}

		key := func(file, name string) RenditionKey { return RenditionKey{AccountID: acct, FileID: file, Name: name} }
		want := map[RenditionKey]*Rendition{
			key(ready, "thumb"):  {Name: "thumb", Version: 2, Status: StatusReady, Width: 16, Height: 9, Size: 300, Mime: "image/webp"},
			key(ready, "big"):    {Name: "big", Version: 1, Status: StatusFailed},
			key(failed, "thumb"): {Name: "thumb", Version: 2, Status: StatusFailed},
			key(stale, "thumb"):  {Name: "thumb", Version: 2, Status: StatusPending},
			key(none, "thumb"):   {Name: "thumb", Version: 2, Status: StatusPending},
			key(ready, "nope"):   nil,
		}
		keys := make([]RenditionKey, 0, len(want))
		for k := range want {
			keys = append(keys, k)
		}
		got, err := s.Renditions(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d renditions for %d keys", len(got), len(want))
		}
		for k, w := range want {
			switch g, ok := got[k]; {
			case !ok:
				t.Errorf("%s/%s: missing", k.FileID, k.Name)
			case (g == nil) != (w == nil), g != nil && *g != *w:
				t.Errorf("%s/%s: %+v, want %+v", k.FileID, k.Name, g, w)
			}
		}
		if n := count.n.Load(); n != 2 {
			t.Errorf("%d queries for one account, want 2 (its presets, the files' jobs)", n)
		}

		// Another account's file never sees this account's presets, and no
		// preset means no query for jobs.
		count.n.Store(0)
		k := RenditionKey{AccountID: other, FileID: ready, Name: "thumb"}
		got, err = s.Renditions(ctx, []RenditionKey{k})
		if err != nil || got[k] != nil {
			t.Fatalf("%+v %v, want no rendition", got[k], err)
		}
		if n := count.n.Load(); n != 1 {
			t.Errorf("%d queries without a preset, want 1", n)
		}
	})
}
