package images

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tus/tusd/v2/pkg/handler"

	"satchel/internal/apperr"
	"satchel/internal/dbtest"
	"satchel/internal/ids"
	"satchel/internal/storage"
	"satchel/internal/testdb"
	"satchel/models"
	"satchel/transforms"
)

// gatedRenderer is the real renderer behind a gate the test opens; it
// counts the sources handed to it and not yet rendered (held in memory).
type gatedRenderer struct {
	inner      *transforms.Renderer
	gate       chan struct{}
	held, peak *atomic.Int64
}

func (g gatedRenderer) Render(ctx context.Context, src []byte, p transforms.Preset) (*transforms.Result, error) {
	n := g.held.Add(1)
	defer g.held.Add(-1)
	for {
		p := g.peak.Load()
		if n <= p || g.peak.CompareAndSwap(p, n) {
			break
		}
	}
	<-g.gate
	return g.inner.Render(ctx, src, p)
}

// countingStore is the real filestore, counting the originals open at once.
type countingStore struct {
	*storage.Store
	open, peak atomic.Int64
}

type countedObject struct {
	storage.Object
	s    *countingStore
	once sync.Once
}

func (o *countedObject) Close() error {
	o.once.Do(func() { o.s.open.Add(-1) })
	return o.Object.Close()
}

func (c *countingStore) Open(ctx context.Context, id string) (storage.Object, error) {
	obj, err := c.Store.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	n := c.open.Add(1)
	for {
		p := c.peak.Load()
		if n <= p || c.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return &countedObject{Object: obj, s: c}, nil
}

func pngOf(t *testing.T, w, h int, shade uint8) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = shade
	}
	img.Set(0, 0, color.RGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// On-demand renders take their slot before they read the original: with 2
// slots and a queue of 64, 76 concurrent requests for 76 different images
// never hold more than 2 originals in memory, the overflow (10) is refused
// with 503 UNAVAILABLE and Retry-After at once, and the rest render.
func TestOnDemandRendersAreBounded(t *testing.T) {
	testdb.Each(t, func(t *testing.T, b testdb.Backend) {
		ctx := context.Background()
		bdb := dbtest.Open(t, b)
		fs, err := storage.NewFile(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		store := &countingStore{Store: fs}
		acct := &models.Account{ID: ids.New(), Name: "a", CreatedAt: 1}
		if err := models.InsertAccount(ctx, bdb, acct); err != nil {
			t.Fatal(err)
		}
		const queued = 2 * QueuePerSlot
		const n = 2 + queued + 10
		files := make([]*models.File, n)
		for i := range files {
			data := pngOf(t, 64, 48, uint8(i))
			f := &models.File{ID: ids.New(), AccountID: acct.ID, Name: "x.png", Mime: "image/png", Size: int64(len(data)), SHA256: strings.Repeat("0", 64), UploadedAt: 1}
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
			files[i] = f
		}
		gate := make(chan struct{})
		r := gatedRenderer{inner: transforms.New(transforms.Limits{}), gate: gate, held: new(atomic.Int64), peak: new(atomic.Int64)}
		s := New(bdb, store, r, slog.New(slog.DiscardHandler), 64<<20, 2)
		if _, err := s.Create(ctx, acct.ID, transforms.Preset{Name: "thumb", Width: 16, Height: 16, Fit: transforms.FitCover, Format: transforms.FormatPNG}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var finished atomic.Int64
		errs := make([]error, n)
		for i, f := range files {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, _, obj, err := s.Result(ctx, f.ID, "thumb")
				if err == nil {
					obj.Close()
				}
				errs[i] = err
				finished.Add(1)
			}()
		}
		// Let every request take a slot, wait in the queue or be refused,
		// then open the gate.
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) && !(r.held.Load() == 2 && s.queued.Load() == queued && finished.Load() == n-2-queued) {
			time.Sleep(5 * time.Millisecond)
		}
		busy := 0
		close(gate)
		wg.Wait()
		for _, err := range errs {
			switch {
			case err == nil:
			case errors.Is(err, ErrBusy):
				busy++
				if e := apperr.From(err); e.Status() != 503 || e.RetryAfter <= 0 {
					t.Fatalf("busy answer %+v", e)
				}
			default:
				t.Fatalf("render: %v", err)
			}
		}
		if busy != n-2-queued {
			t.Fatalf("%d requests refused as busy, want %d (%d - 2 slots - %d queued)", busy, n-2-queued, n, queued)
		}
		if p := store.peak.Load(); p > 2 {
			t.Fatalf("%d originals open at once with 2 render slots", p)
		}
		if p := r.peak.Load(); p != 2 {
			t.Fatalf("%d originals held in memory at once, want 2 (the slots)", p)
		}
	})
}
