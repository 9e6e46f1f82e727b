package uploads

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/tus/tusd/v2/pkg/handler"

	"satchel/internal/apperr"
	"satchel/internal/auth"
	"satchel/models"
)

// LengthDeclarer is the part of the store that fixes a deferred length.
type LengthDeclarer interface {
	DeclareLength(ctx context.Context, up handler.Upload, length int64) error
}

// UploadBasic stores body as a new file in one request, streaming it through
// the same store and the same finishing path as tus. size is the declared
// length, or -1 when unknown (chunked transfer).
func (s *Service) UploadBasic(ctx context.Context, p *auth.Principal, meta Meta, size int64, body io.Reader) (*models.File, error) {
	if size >= 0 {
		if err := s.CheckSize(p, size); err != nil {
			return nil, err
		}
	}
	up, err := s.Begin(ctx, p, BeginInput{Meta: meta, Size: size})
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			s.dropUpload(context.WithoutCancel(ctx), up.ID)
		}
	}()
	bu, err := s.Bytes.NewUpload(ctx, handler.FileInfo{
		ID: up.ID, Size: max(size, 0), SizeIsDeferred: size < 0,
		MetaData: handler.MetaData{"filename": meta.Name, "filetype": meta.Mime},
	})
	if err != nil {
		return nil, fmt.Errorf("basic upload: %w", err)
	}
	// Read at most one byte past what may be stored, to tell "too large".
	limit := ByteBound(up)
	if size >= 0 {
		limit = size
	}
	src := GuardHead(up, body, true)
	if limit > 0 {
		src = io.LimitReader(src, limit+1)
	}
	n, err := bu.WriteChunk(ctx, 0, src)
	if err != nil {
		var mbe *http.MaxBytesError
		var ae *apperr.Error
		switch {
		case errors.As(err, &mbe):
			return nil, apperr.New(apperr.TooLarge, "the request body is too large")
		case errors.As(err, &ae):
			return nil, ae
		}
		return nil, apperr.New(apperr.BadUserInput, "the request body could not be read to the end")
	}
	switch {
	case size >= 0 && n > size:
		return nil, apperr.New(apperr.BadUserInput, "the body is longer than Content-Length")
	case size >= 0 && n < size:
		return nil, apperr.New(apperr.BadUserInput, "the body is shorter than Content-Length")
	case size < 0 && limit > 0 && n > limit:
		return nil, OverBound(up, n)
	}
	if size < 0 {
		ld, ok := s.Bytes.(LengthDeclarer)
		if !ok {
			return nil, errors.New("basic upload: store cannot declare lengths")
		}
		if err := ld.DeclareLength(ctx, bu, n); err != nil {
			return nil, fmt.Errorf("basic upload: %w", err)
		}
	}
	f, err := s.finish(ctx, up.ID, "basic", nil, "")
	if err != nil {
		return nil, err
	}
	ok = true
	return f, nil
}
