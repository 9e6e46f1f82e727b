package tus

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"

	"satchel/internal/apperr"
	"satchel/internal/uploads"
	"satchel/models"
)

// The limits an upload began under bound the bytes of every tus request
// that carries it: tusd knows only the server's maximum, and for an upload
// whose length is deferred it lets a PATCH's Content-Length override even
// that. So the edge refuses, before tusd reads anything, a declared length
// or a Content-Length that would take the upload past its bound, and stops
// a body of unknown length at the bound. Under type rules, an upload's
// first bytes are checked before they are stored.

// checkBound refuses a PATCH that would take a deferred-length upload past
// its bound, by the length it declares or by its Content-Length.
func checkBound(up *models.Upload, r *http.Request, offset int64) error {
	if up.Size >= 0 {
		return nil // tusd holds it to its declared length
	}
	if v := r.Header.Get("Upload-Length"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			if err := uploads.OverBound(up, n); err != nil {
				return err
			}
		}
	}
	if r.ContentLength > 0 {
		return uploads.OverBound(up, offset+r.ContentLength)
	}
	return nil
}

// bodyGuard applies an upload's limits to the body of one request. For a
// creation, the upload exists only once the creation hook has run: the hook
// fills the guard in, before tusd reads the body.
type bodyGuard struct {
	src    io.ReadCloser
	ctx    context.Context
	req    *http.Request // of a creation
	up     *models.Upload
	offset int64
	// whole: the body holds the upload from its first byte to its last.
	whole bool
	r     io.Reader
	// refused is set when the body's first bytes broke the type rules: the
	// upload can never finish, and is dropped once tusd has answered.
	refused bool
}

type guardKey struct{}

func guardOf(ctx context.Context) *bodyGuard {
	g, _ := ctx.Value(guardKey{}).(*bodyGuard)
	return g
}

func (g *bodyGuard) Read(p []byte) (int, error) {
	if g.r == nil {
		g.r = g.build()
	}
	n, err := g.r.Read(p)
	var ae *apperr.Error
	if errors.As(err, &ae) {
		g.refused = ae.Code == apperr.MimeNotAllowed
		// tusd answers a body's error as it is when it is tusd's own kind.
		err = hookError(g.ctx, ae)
	}
	return n, err
}

func (g *bodyGuard) Close() error { return g.src.Close() }

// dropRefused drops the upload whose first bytes were refused.
func (g *bodyGuard) dropRefused(u Uploads) {
	if g != nil && g.refused && g.up != nil {
		u.Abort(context.WithoutCancel(g.ctx), g.up.ID)
	}
}

func (g *bodyGuard) build() io.Reader {
	r := io.Reader(g.src)
	if g.up == nil {
		return r
	}
	if g.offset == 0 {
		r = uploads.GuardHead(g.up, r, g.whole)
	}
	if g.up.Size < 0 {
		if bound := uploads.ByteBound(g.up); bound > 0 {
			r = &boundReader{r: r, left: bound - g.offset, over: uploads.OverBound(g.up, bound+1)}
		}
	}
	return r
}

// boundReader hands on at most left bytes, and fails with over when the
// source has more.
type boundReader struct {
	r    io.Reader
	left int64
	over error
}

func (b *boundReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		n, err := b.r.Read(one[:])
		if n > 0 {
			return 0, b.over
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

// dropDeclaredLength removes a PATCH's Upload-Length when it repeats the
// length an earlier PATCH declared: tusd refuses any Upload-Length once the
// length is known, but the client that sends the same bytes again (they
// failed their checksum, or the answer was lost) sends the same headers.
func (h *Handler) dropDeclaredLength(r *http.Request, id string) {
	up, err := h.store.GetUpload(r.Context(), id)
	if err != nil {
		return // tusd answers
	}
	info, err := up.GetInfo(r.Context())
	if err == nil && !info.SizeIsDeferred && r.Header.Get("Upload-Length") == strconv.FormatInt(info.Size, 10) {
		r.Header.Del("Upload-Length")
	}
}
