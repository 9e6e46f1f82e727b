package graph

import (
	"context"
	"net/http"
	"time"

	"github.com/uptrace/bun"
	"github.com/vikstrous/dataloadgen"

	"satchel/models"
)

// loaders batch the queries a field would otherwise make per row: a page of
// 1000 files asking for a transformation makes two queries, not 2000.
type loaders struct {
	jobs    *dataloadgen.Loader[string, []models.TransformJob]
	presets *dataloadgen.Loader[string, map[string]models.Transformation]
}

type loadersKey struct{}

func newLoaders(db bun.IDB) *loaders {
	return &loaders{
		jobs: dataloadgen.NewMappedLoader(func(ctx context.Context, fileIDs []string) (map[string][]models.TransformJob, error) {
			js, err := models.GetJobs(ctx, db, fileIDs)
			if err != nil {
				return nil, err
			}
			out := make(map[string][]models.TransformJob, len(fileIDs))
			for _, id := range fileIDs {
				out[id] = nil
			}
			for _, j := range js {
				out[j.FileID] = append(out[j.FileID], j)
			}
			return out, nil
		}, dataloadgen.WithWait(time.Millisecond)),
		presets: dataloadgen.NewMappedLoader(func(ctx context.Context, accountIDs []string) (map[string]map[string]models.Transformation, error) {
			out := make(map[string]map[string]models.Transformation, len(accountIDs))
			for _, a := range accountIDs {
				ts, err := models.ListTransformations(ctx, db, a)
				if err != nil {
					return nil, err
				}
				m := make(map[string]models.Transformation, len(ts))
				for _, t := range ts {
					m[t.Name] = t
				}
				out[a] = m
			}
			return out, nil
		}, dataloadgen.WithWait(time.Millisecond)),
	}
}

// withLoaders gives each request its own loaders (their caches live as long
// as the request).
func withLoaders(db bun.IDB, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), loadersKey{}, newLoaders(db))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func loadersFrom(ctx context.Context, db bun.IDB) *loaders {
	if l, ok := ctx.Value(loadersKey{}).(*loaders); ok {
		return l
	}
	return newLoaders(db)
}
