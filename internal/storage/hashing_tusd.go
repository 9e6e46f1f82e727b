package storage

import (
	"context"

	"github.com/tus/tusd/v2/pkg/handler"
)

// The hashing store passes tusd's optional extensions (termination,
// concatenation, deferred length) through to the store it wraps, handing it
// its own upload values.

// unwrap returns the store's own upload inside a hashing upload.
func unwrap(u handler.Upload) handler.Upload {
	if h, ok := u.(*hashingUpload); ok {
		return h.Upload
	}
	return u
}

func (s *hashingStore) AsTerminatableUpload(u handler.Upload) handler.TerminatableUpload {
	return terminatable{s.inner.(handler.TerminaterDataStore).AsTerminatableUpload(unwrap(u)), u.(*hashingUpload)}
}

type terminatable struct {
	handler.TerminatableUpload
	u *hashingUpload
}

func (t terminatable) Terminate(ctx context.Context) error {
	if err := t.TerminatableUpload.Terminate(ctx); err != nil {
		return err
	}
	return t.u.store.forget(ctx, t.u.id)
}

func (s *hashingStore) AsConcatableUpload(u handler.Upload) handler.ConcatableUpload {
	return concatable{s.inner.(handler.ConcaterDataStore).AsConcatableUpload(unwrap(u))}
}

type concatable struct{ inner handler.ConcatableUpload }

// ConcatUploads hands the store its own upload values; the digest of a
// concatenation is computed from the assembled bytes at finish.
func (c concatable) ConcatUploads(ctx context.Context, partials []handler.Upload) error {
	raw := make([]handler.Upload, len(partials))
	for i, p := range partials {
		raw[i] = unwrap(p)
	}
	return c.inner.ConcatUploads(ctx, raw)
}

func (s *hashingStore) AsLengthDeclarableUpload(u handler.Upload) handler.LengthDeclarableUpload {
	return s.inner.(handler.LengthDeferrerDataStore).AsLengthDeclarableUpload(unwrap(u))
}
