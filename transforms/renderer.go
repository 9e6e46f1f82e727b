package transforms

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
)

// Limits bound what a Renderer accepts and how much it does at once. Zero
// fields take their defaults.
type Limits struct {
	// MaxPixels is the largest width x height accepted, checked on the
	// header before any pixel is decoded. Default 50_000_000.
	MaxPixels int64
	// MaxBytes is the largest input file. Default 64 MiB.
	MaxBytes int64
	// MaxConcurrent is how many renders run at once; others wait for a slot.
	// Default runtime.NumCPU().
	MaxConcurrent int
}

// Default limits.
const (
	DefaultMaxPixels = 50_000_000
	DefaultMaxBytes  = 64 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxConcurrent <= 0 {
		l.MaxConcurrent = runtime.NumCPU()
	}
	return l
}

// Info is what an image's header says, read without decoding pixels. Width
// and Height are as stored, before any EXIF rotation; for animated images
// they are the first frame's.
type Info struct {
	Width, Height int
	Mime          string
}

// Result is a rendered image. Width and Height are read back from Data.
type Result struct {
	Data          []byte
	Mime          string
	Width, Height int
}

// Renderer renders presets with bounded concurrency. Make one with New; it
// is safe for concurrent use.
type Renderer struct {
	limits Limits
	slots  chan struct{}

	// Observed render concurrency, for tests and metrics.
	active, peak atomic.Int64
}

// New returns a Renderer with limits l (zero fields take their defaults).
// It also makes sure libvips is configured (see Formats and the package
// documentation) before the first image is processed.
func New(l Limits) *Renderer {
	configure()
	l = l.withDefaults()
	return &Renderer{limits: l, slots: make(chan struct{}, l.MaxConcurrent)}
}

// Limits returns the renderer's limits, defaults applied.
func (r *Renderer) Limits() Limits { return r.limits }

// Inspect reads src's header, decoding no pixels, and refuses what must not
// be decoded: ErrNotAnImage when src is not an image in an accepted format
// (JPEG, PNG, WEBP, GIF, TIFF, HEIF, AVIF), ErrTooLarge when src is over
// MaxBytes or its header claims more than MaxPixels. A decompression bomb is
// refused in well under a millisecond. Errors carry an *Error (errors.As);
// their text may add libvips' reason, for logs.
func (r *Renderer) Inspect(src []byte) (Info, error) {
	info, _, err := r.inspect(src)
	return info, err
}

func (r *Renderer) inspect(src []byte) (Info, header, error) {
	configure()
	switch {
	case int64(len(src)) > r.limits.MaxBytes:
		return Info{}, header{}, errorf(KindTooLarge, "the file is %d bytes; images of at most %d bytes are accepted", len(src), r.limits.MaxBytes)
	case len(src) == 0:
		return Info{}, header{}, newError(KindNotAnImage, "the file is empty")
	}

	var h header
	var st vipsStatus
	var msg string
	err := safely(KindNotAnImage, func() error {
		h, st, msg = readHeader(src)
		return nil
	})
	switch {
	case err != nil:
		return Info{}, header{}, err
	case st == vipsUntrusted:
		return Info{}, header{}, fmt.Errorf("transforms: inspect: %s: %w", msg,
			newError(KindNotAnImage, "the file is not an image in an accepted format (JPEG, PNG, WEBP, GIF, TIFF, HEIF, AVIF)"))
	case st != vipsOK || h.width <= 0 || h.height <= 0:
		return Info{}, header{}, fmt.Errorf("transforms: inspect: %s: %w", msg,
			newError(KindNotAnImage, "the image header cannot be read"))
	}
	if px := int64(h.width) * int64(h.height); px > r.limits.MaxPixels {
		return Info{}, header{}, errorf(KindTooLarge, "the image is %dx%d (%d pixels); images of at most %d pixels are accepted", h.width, h.height, px, r.limits.MaxPixels)
	}
	return Info{Width: h.width, Height: h.height, Mime: mimeOf(h.loader, src)}, h, nil
}

// Render renders src with preset p. It validates p (ErrBadPreset, as is a
// format this libvips cannot write), checks src with Inspect, waits for a
// render slot (returning ctx's error if ctx ends first) and renders. A src
// that passes Inspect but cannot be decoded (corrupt, truncated) is
// ErrNotAnImage; anything else that goes wrong is ErrInternal, with
// libvips' message in the error text for logs only.
func (r *Renderer) Render(ctx context.Context, src []byte, p Preset) (*Result, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	info, h, err := r.inspect(src)
	if err != nil {
		return nil, err
	}
	format := p.outputFormat(info.Mime)
	if !formatSupported(format) {
		return nil, errorf(KindBadPreset, "format %s is not supported by this server", format)
	}

	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("transforms: waiting for a render slot: %w", context.Cause(ctx))
	}
	defer func() { <-r.slots }()
	r.enter()
	defer r.active.Add(-1)

	var data []byte
	var st vipsStatus
	var msg string
	err = safely(KindInternal, func() error {
		data, st, msg = renderVips(src, renderParams{
			width: p.Width, height: p.Height, fit: p.Fit, format: format,
			quality: p.quality(), strip: p.StripMetadata, autoRotate: p.AutoRotate,
			icc: h.icc,
		})
		return nil
	})
	switch {
	case err != nil:
		return nil, fmt.Errorf("transforms: render %q: %w", p.Name, err)
	case st == vipsUntrusted || st == vipsUnreadable:
		return nil, fmt.Errorf("transforms: render %q: %s: %w", p.Name, msg,
			newError(KindNotAnImage, "the image cannot be decoded: it is corrupt or truncated"))
	case st != vipsOK:
		return nil, fmt.Errorf("transforms: render %q: %s: %w", p.Name, msg,
			newError(KindInternal, "the image could not be rendered"))
	}
	return readBack(data, format)
}

// enter counts a render in and records the peak.
func (r *Renderer) enter() {
	n := r.active.Add(1)
	for {
		p := r.peak.Load()
		if n <= p || r.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

// readBack reads the output's own header: the result reports what was
// written, not what was asked for.
func readBack(data []byte, want Format) (*Result, error) {
	internal := newError(KindInternal, "the image could not be rendered")
	if len(data) == 0 {
		return nil, fmt.Errorf("transforms: empty %s output: %w", want, internal)
	}
	var h header
	var st vipsStatus
	var msg string
	if err := safely(KindInternal, func() error {
		h, st, msg = readHeader(data)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("transforms: read back %s output: %w", want, err)
	}
	if st != vipsOK {
		return nil, fmt.Errorf("transforms: read back %s output: %s: %w", want, msg, internal)
	}
	if got := mimeOf(h.loader, data); got != want.Mime() {
		return nil, fmt.Errorf("transforms: asked for %s, libvips wrote %s: %w", want.Mime(), got, internal)
	}
	return &Result{Data: data, Mime: want.Mime(), Width: h.width, Height: h.height}, nil
}

// mimeOf names the type of buf, which loader (a nickname from loaderMimes)
// opened. HEIF and AVIF share a loader and differ by their ftyp brand.
func mimeOf(loader string, buf []byte) string {
	m := loaderMimes[loader]
	if m == "image/heif" && len(buf) >= 12 && string(buf[4:8]) == "ftyp" {
		if b := string(buf[8:12]); b == "avif" || b == "avis" {
			return "image/avif"
		}
	}
	return m
}

// safely runs f, turning a panic into an error of kind: nothing the
// image libraries do may take the server down with it. (A fault inside C
// cannot be recovered; block_untrusted, the loader allowlist and the limits
// are what keep hostile input away from the code most likely to have one.)
func safely(kind Kind, f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			msg := "the image could not be processed"
			if kind == KindNotAnImage {
				msg = "the image header cannot be read"
			}
			err = fmt.Errorf("transforms: recovered from panic: %v: %w", v, newError(kind, msg))
		}
	}()
	return f()
}
