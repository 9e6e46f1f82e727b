package graph

import (
	"context"
	"net/http"
	"time"

	"github.com/vikstrous/dataloadgen"

	"satchel/internal/images"
)

// loaders batch what a field would otherwise ask per row: a page of 1000
// files asking for a transformation makes two queries, not 2000. The batch
// functions are the use cases'.
type loaders struct {
	renditions *dataloadgen.Loader[images.RenditionKey, *images.Rendition]
}

type loadersKey struct{}

func newLoaders(img *images.Service) *loaders {
	return &loaders{
		renditions: dataloadgen.NewMappedLoader(img.Renditions, dataloadgen.WithWait(time.Millisecond)),
	}
}

// withLoaders gives each request its own loaders (their caches live as long
// as the request).
func withLoaders(img *images.Service, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), loadersKey{}, newLoaders(img))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func loadersFrom(ctx context.Context, img *images.Service) *loaders {
	if l, ok := ctx.Value(loadersKey{}).(*loaders); ok {
		return l
	}
	return newLoaders(img)
}
