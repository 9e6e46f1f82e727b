package images

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tus/tusd/v2/pkg/handler"

	"satchel/internal/apperr"
	"satchel/internal/dbtest"
	"satchel/internal/ids"
	"satchel/internal/storage"
	"satchel/internal/testdb"
	"satchel/models"
	"satchel/transforms"
)

// Errors of transforms reach clients with the code their kind stands for
// and their own message; the transforms error stays the cause. Other errors
// pass as they are.
func TestClientError(t *testing.T) {
	bad := transforms.Preset{Name: "x"}
	badErr := bad.Validate()
	_, notImage := transforms.New(transforms.Limits{}).Inspect([]byte("hello"))
	_, tooLarge := transforms.New(transforms.Limits{MaxBytes: 1}).Inspect([]byte("hello"))
	internal := fmt.Errorf("transforms: render %q: vips said no: %w", "t", &transforms.Error{Kind: transforms.KindInternal, Message: "the image could not be rendered"})
	cases := []struct {
		name    string
		in      error
		code    string
		message string
		kind    *transforms.Error
	}{
		{"invalid preset", badErr, apperr.BadUserInput, "width or height (or both) must be set", transforms.ErrBadPreset},
		{"not an image", notImage, apperr.NotAnImage, "the file is not an image in an accepted format (JPEG, PNG, WEBP, GIF, TIFF, HEIF, AVIF)", transforms.ErrNotAnImage},
		{"too large", tooLarge, apperr.TooLarge, "the file is 5 bytes; images of at most 1 bytes are accepted", transforms.ErrTooLarge},
		{"internal", internal, apperr.Internal, "the image could not be rendered", transforms.ErrInternal},
		{"unknown kind", &transforms.Error{Kind: 99, Message: "m"}, apperr.Internal, "m", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := clientError(c.in)
			var e *apperr.Error
			if !errors.As(out, &e) {
				t.Fatalf("%v carries no *apperr.Error", out)
			}
			if e.Code != c.code || e.Message != c.message || e.Status() != apperr.StatusOf(c.code) {
				t.Errorf("got %s %d %q, want %s %q", e.Code, e.Status(), e.Message, c.code, c.message)
			}
			if c.kind != nil && !errors.Is(out, c.kind) {
				t.Errorf("the cause %v is lost", c.in)
			}
		})
	}
	for _, err := range []error{errors.New("boom"), fmt.Errorf("transforms: waiting for a render slot: %w", context.DeadlineExceeded), ErrBusy} {
		if out := clientError(err); out != err {
			t.Errorf("clientError(%v) = %v, want it unchanged", err, out)
		}
	}
}

// An invalid preset is refused by Create and Update with BAD_USER_INPUT and
// Validate's message, which is what createTransformation and
// updateTransformation answer.
func TestPresetErrors(t *testing.T) {
	s := &Service{}
	for _, p := range []transforms.Preset{
		{Name: "Bad Name", Width: 10},
		{Name: "x"},
		{Name: "x", Width: 100000},
		{Name: "x", Width: 10, Quality: 101},
		{Name: "x", Width: 10, Fit: "crop"},
		{Name: "x", Width: 10, Format: "gif"},
	} {
		want := p
		werr := want.Validate()
		var te *transforms.Error
		if !errors.As(werr, &te) {
			t.Fatalf("%+v: Validate says %v", p, werr)
		}
		for op, f := range map[string]func(context.Context, string, transforms.Preset) (*models.Transformation, error){"create": s.Create, "update": s.Update} {
			_, err := f(context.Background(), "acct", p)
			if e := apperr.From(err); e.Code != apperr.BadUserInput || e.Message != te.Message {
				t.Errorf("%s %+v: %s %q, want BAD_USER_INPUT %q", op, p, e.Code, e.Message, te.Message)
			}
		}
	}
}

// countRenderer counts the renders it passes on.
type countRenderer struct {
	inner Renderer
	n     atomic.Int64
}

func (c *countRenderer) Render(ctx context.Context, src []byte, p transforms.Preset) (*transforms.Result, error) {
	c.n.Add(1)
	return c.inner.Render(ctx, src, p)
}

// A file that is not an image, or is too large to decode, is answered with
// NOT_AN_IMAGE or TOO_LARGE, recorded as such on its job, and answered from
// that record the next time, without a render.
func TestRenderRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, b testdb.Backend) {
		ctx := t.Context()
		bdb := dbtest.Open(t, b)
		fs, err := storage.NewFile(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		acct := &models.Account{ID: ids.New(), Name: "a", CreatedAt: 1}
		if err := models.InsertAccount(ctx, bdb, acct); err != nil {
			t.Fatal(err)
		}
		put := func(data []byte, mime string) *models.File {
			f := &models.File{ID: ids.New(), AccountID: acct.ID, Name: "x", Mime: mime, Size: int64(len(data)), SHA256: strings.Repeat("0", 64), UploadedAt: 1}
			up, err := fs.NewUpload(ctx, handler.FileInfo{ID: f.ID, Size: f.Size, MetaData: handler.MetaData{}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := up.WriteChunk(ctx, 0, bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			if err := models.InsertFiles(ctx, bdb, []*models.File{f}); err != nil {
				t.Fatal(err)
			}
			return f
		}
		png := pngOf(t, 64, 48, 1)
		r := &countRenderer{inner: transforms.New(transforms.Limits{MaxPixels: 64*48 - 1})}
		s := New(bdb, fs, r, slog.New(slog.DiscardHandler), 64<<20, 1)
		if _, err := s.Create(ctx, acct.ID, transforms.Preset{Name: "thumb", Width: 16}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name, code, message string
			f                   *models.File
		}{
			{"text", apperr.NotAnImage, "the file is not an image in an accepted format (JPEG, PNG, WEBP, GIF, TIFF, HEIF, AVIF)", put([]byte("hello, not an image"), "image/png")},
			{"too many pixels", apperr.TooLarge, "the image is 64x48 (3072 pixels); images of at most 3071 pixels are accepted", put(png, "image/png")},
		} {
			n := r.n.Load()
			_, _, _, _, err := s.Result(ctx, c.f.ID, "thumb")
			if e := apperr.From(err); e.Code != c.code || e.Message != c.message {
				t.Errorf("%s: %s %q, want %s %q", c.name, e.Code, e.Message, c.code, c.message)
			}
			if j, err := models.GetJob(ctx, bdb, c.f.ID, "thumb"); err != nil || j.Status != models.JobFailed || j.Error != c.code {
				t.Errorf("%s: job %+v (%v), want failed with %s", c.name, j, err, c.code)
			}
			_, _, _, _, err = s.Result(ctx, c.f.ID, "thumb")
			if e := apperr.From(err); e.Code != c.code {
				t.Errorf("%s, again: %s, want %s", c.name, e.Code, c.code)
			}
			if got := r.n.Load() - n; got != 1 {
				t.Errorf("%s: %d renders for two requests, want 1", c.name, got)
			}
		}
	})
}
