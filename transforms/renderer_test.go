package transforms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// decoded reads an output's type and size back, with libvips and, for the
// formats Go's image package knows, independently with image.DecodeConfig.
func decoded(t testing.TB, data []byte) (mime string, w, h int) {
	t.Helper()
	hd, st, msg := readHeader(data)
	if st != vipsOK {
		t.Fatalf("output does not read back: %s", msg)
	}
	mime = mimeOf(hd.loader, data)
	if mime == "image/jpeg" || mime == "image/png" || mime == "image/gif" {
		cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("image.DecodeConfig: %v", err)
		}
		if "image/"+format != mime || cfg.Width != hd.width || cfg.Height != hd.height {
			t.Fatalf("libvips reads %s %dx%d, Go reads image/%s %dx%d", mime, hd.width, hd.height, format, cfg.Width, cfg.Height)
		}
	}
	return mime, hd.width, hd.height
}

func render(t testing.TB, r *Renderer, src []byte, p Preset) *Result {
	t.Helper()
	res, err := r.Render(context.Background(), src, p)
	if err != nil {
		t.Fatalf("Render(%+v): %v", p, err)
	}
	mime, w, h := decoded(t, res.Data)
	if mime != res.Mime || w != res.Width || h != res.Height {
		t.Fatalf("Result says %s %dx%d, the data is %s %dx%d", res.Mime, res.Width, res.Height, mime, w, h)
	}
	return res
}

func wantKind(t testing.TB, err error, kind Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", kind)
	}
	var te *Error
	if !errors.As(err, &te) {
		t.Fatalf("error %v is not an *Error", err)
	}
	if te.Kind != kind || te.Message == "" {
		t.Fatalf("got %s %q (%v), want %s with a message", te.Kind, te.Message, err, kind)
	}
}

// landscape and portrait are the fit tests' sources: 400x200 and 200x400.
func landscape(t testing.TB) []byte { return jpegOf(t, photo(400, 200, 1), 90) }
func portrait(t testing.TB) []byte  { return jpegOf(t, photo(200, 400, 2), 90) }

func TestFits(t *testing.T) {
	r := New(Limits{})
	type size struct{ w, h int }
	cases := []struct {
		name      string
		p         Preset
		landscape size // from 400x200
		portrait  size // from 200x400
	}{
		{"cover square", Preset{Width: 100, Height: 100, Fit: FitCover}, size{100, 100}, size{100, 100}},
		{"cover is the default", Preset{Width: 120, Height: 80}, size{120, 80}, size{120, 80}},
		{"cover wide box", Preset{Width: 333, Height: 101, Fit: FitCover}, size{333, 101}, size{333, 101}},
		{"cover tall box", Preset{Width: 101, Height: 333, Fit: FitCover}, size{101, 333}, size{101, 333}},
		{"cover enlarges", Preset{Width: 1000, Height: 800, Fit: FitCover}, size{1000, 800}, size{1000, 800}},
		{"contain square", Preset{Width: 100, Height: 100, Fit: FitContain}, size{100, 100}, size{100, 100}},
		{"contain odd box", Preset{Width: 257, Height: 93, Fit: FitContain}, size{257, 93}, size{257, 93}},
		{"contain pads a small image", Preset{Width: 1000, Height: 800, Fit: FitContain}, size{1000, 800}, size{1000, 800}},
		{"fill", Preset{Width: 150, Height: 50, Fit: FitFill}, size{150, 50}, size{150, 50}},
		{"fill enlarges", Preset{Width: 1000, Height: 100, Fit: FitFill}, size{1000, 100}, size{1000, 100}},
		{"inside", Preset{Width: 100, Height: 100, Fit: FitInside}, size{100, 50}, size{50, 100}},
		{"inside wide box", Preset{Width: 300, Height: 100, Fit: FitInside}, size{200, 100}, size{50, 100}},
		{"inside never enlarges", Preset{Width: 1000, Height: 1000, Fit: FitInside}, size{400, 200}, size{200, 400}},
		{"width only", Preset{Width: 100}, size{100, 50}, size{100, 200}},
		{"height only", Preset{Height: 100}, size{200, 100}, size{50, 100}},
		{"width only ignores fit", Preset{Width: 100, Fit: FitFill}, size{100, 50}, size{100, 200}},
		{"width only never enlarges", Preset{Width: 1000}, size{400, 200}, size{200, 400}},
		{"height only never enlarges", Preset{Height: 1000}, size{400, 200}, size{200, 400}},
	}
	land, port := landscape(t), portrait(t)
	for _, c := range cases {
		for _, src := range []struct {
			name string
			data []byte
			want size
		}{{"landscape", land, c.landscape}, {"portrait", port, c.portrait}} {
			for _, f := range []Format{FormatJPEG, FormatPNG} {
				t.Run(fmt.Sprintf("%s/%s/%s", c.name, src.name, f), func(t *testing.T) {
					p := c.p
					p.Name, p.Format = "t", f
					res := render(t, r, src.data, p)
					if res.Mime != f.Mime() || res.Width != src.want.w || res.Height != src.want.h {
						t.Errorf("got %s %dx%d, want %s %dx%d", res.Mime, res.Width, res.Height, f.Mime(), src.want.w, src.want.h)
					}
				})
			}
		}
	}
}

// TestContainPadding checks what contain puts around the image: transparent
// pixels for PNG and WEBP, white for JPEG, and the image itself unscaled
// when it is smaller than the box.
func TestContainPadding(t *testing.T) {
	r := New(Limits{})
	src := landscape(t) // 400x200

	t.Run("png transparent", func(t *testing.T) {
		res := render(t, r, src, Preset{Name: "c", Width: 100, Height: 100, Fit: FitContain, Format: FormatPNG})
		img := decodePNG(t, res.Data)
		// The image is 100x50, centred: rows 25..74.
		wantAlpha(t, img, 50, 5, 0)
		wantAlpha(t, img, 50, 95, 0)
		wantAlpha(t, img, 50, 50, 0xffff)
	})
	t.Run("png small image is padded, not enlarged", func(t *testing.T) {
		res := render(t, r, src, Preset{Name: "c", Width: 1000, Height: 800, Fit: FitContain, Format: FormatPNG})
		img := decodePNG(t, res.Data)
		// 400x200 at (300,300)..(700,500).
		wantAlpha(t, img, 290, 400, 0)
		wantAlpha(t, img, 710, 400, 0)
		wantAlpha(t, img, 500, 290, 0)
		wantAlpha(t, img, 500, 510, 0)
		wantAlpha(t, img, 310, 310, 0xffff)
		wantAlpha(t, img, 690, 490, 0xffff)
	})
	t.Run("webp transparent", func(t *testing.T) {
		res := render(t, r, src, Preset{Name: "c", Width: 100, Height: 100, Fit: FitContain, Format: FormatWEBP})
		// Go cannot decode WEBP: turn it into a PNG of the same size.
		back := render(t, r, res.Data, Preset{Name: "c", Width: 100, Height: 100, Fit: FitInside, Format: FormatPNG})
		img := decodePNG(t, back.Data)
		wantAlpha(t, img, 50, 5, 0)
		wantAlpha(t, img, 50, 50, 0xffff)
	})
	t.Run("jpeg white", func(t *testing.T) {
		res := render(t, r, src, Preset{Name: "c", Width: 100, Height: 100, Fit: FitContain, Format: FormatJPEG})
		img, err := jpeg.Decode(bytes.NewReader(res.Data))
		if err != nil {
			t.Fatal(err)
		}
		for _, pt := range []image.Point{{50, 3}, {50, 96}} {
			r, g, b, _ := img.At(pt.X, pt.Y).RGBA()
			if r>>8 < 245 || g>>8 < 245 || b>>8 < 245 {
				t.Errorf("padding at %v is %d,%d,%d, want white", pt, r>>8, g>>8, b>>8)
			}
		}
	})
	t.Run("transparent source to jpeg is flattened on white", func(t *testing.T) {
		img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
		for y := 0; y < 64; y++ {
			for x := 0; x < 64; x++ {
				if x >= 16 && x < 48 && y >= 16 && y < 48 {
					img.SetNRGBA(x, y, color.NRGBA{0, 0, 255, 255})
				}
			}
		}
		res := render(t, r, pngOf(t, img), Preset{Name: "c", Width: 64, Height: 64, Fit: FitCover, Format: FormatJPEG})
		out, err := jpeg.Decode(bytes.NewReader(res.Data))
		if err != nil {
			t.Fatal(err)
		}
		if r, g, b, _ := out.At(2, 2).RGBA(); r>>8 < 245 || g>>8 < 245 || b>>8 < 245 {
			t.Errorf("transparent corner became %d,%d,%d, want white", r>>8, g>>8, b>>8)
		}
	})
}

func decodePNG(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func wantAlpha(t *testing.T, img image.Image, x, y int, want uint32) {
	t.Helper()
	if _, _, _, a := img.At(x, y).RGBA(); a != want {
		t.Errorf("alpha at (%d,%d) = %#x, want %#x", x, y, a, want)
	}
}

func TestOutputFormats(t *testing.T) {
	r := New(Limits{})
	supported := Formats()
	for _, f := range []Format{FormatJPEG, FormatPNG, FormatWEBP, FormatAVIF} {
		t.Run(string(f), func(t *testing.T) {
			if !slices.Contains(supported, f) {
				t.Skipf("this libvips cannot write %s (Formats() = %v)", f, supported)
			}
			for _, fit := range []Fit{FitCover, FitContain, FitFill, FitInside} {
				res := render(t, r, landscape(t), Preset{Name: "f", Width: 64, Height: 48, Fit: fit, Format: f})
				want := [2]int{64, 48}
				if fit == FitInside {
					want = [2]int{64, 32}
				}
				if res.Mime != f.Mime() || [2]int{res.Width, res.Height} != want {
					t.Errorf("%s: got %s %dx%d, want %s %dx%d", fit, res.Mime, res.Width, res.Height, f.Mime(), want[0], want[1])
				}
			}
		})
	}
}

func TestFormatsOnThisMachine(t *testing.T) {
	fs := Formats()
	t.Logf("Formats() = %v", fs)
	for _, f := range []Format{FormatJPEG, FormatPNG, FormatWEBP} {
		if !slices.Contains(fs, f) {
			t.Errorf("Formats() = %v lacks %s", fs, f)
		}
	}
	fs[0] = "changed"
	if Formats()[0] == "changed" {
		t.Error("Formats returns its internal slice")
	}
}

// TestInputFormats renders every accepted input type, and checks which
// output format an empty Format picks for it.
func TestInputFormats(t *testing.T) {
	r := New(Limits{})
	img := photo(60, 40, 3)
	webp := render(t, r, pngOf(t, img), Preset{Name: "w", Width: 60, Format: FormatWEBP}).Data
	inputs := []struct {
		name, mime string
		data       []byte
		out        string // with Format ""
	}{
		{"jpeg", "image/jpeg", jpegOf(t, img, 90), "image/jpeg"},
		{"png", "image/png", pngOf(t, img), "image/png"},
		{"gif", "image/gif", gifOf(t, img), "image/webp"},
		{"webp", "image/webp", webp, "image/webp"},
		{"tiff", "image/tiff", tiffOf(img), "image/webp"},
	}
	if slices.Contains(Formats(), FormatAVIF) {
		avif := render(t, r, pngOf(t, img), Preset{Name: "a", Width: 60, Format: FormatAVIF}).Data
		inputs = append(inputs, struct {
			name, mime string
			data       []byte
			out        string
		}{"avif", "image/avif", avif, "image/webp"})
	} else {
		t.Log("no AVIF input case: this libvips cannot write AVIF to make one")
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			info, err := r.Inspect(in.data)
			if err != nil {
				t.Fatal(err)
			}
			if info != (Info{Width: 60, Height: 40, Mime: in.mime}) {
				t.Errorf("Inspect = %+v, want 60x40 %s", info, in.mime)
			}
			res := render(t, r, in.data, Preset{Name: "d", Width: 30, Height: 30, Fit: FitInside})
			if res.Mime != in.out || res.Width != 30 || res.Height != 20 {
				t.Errorf("got %s %dx%d, want %s 30x20", res.Mime, res.Width, res.Height, in.out)
			}
		})
	}
}

// TestAutoRotate uses a 40x20 JPEG whose EXIF says orientation 6 (rotate 90°
// clockwise to view).
func TestAutoRotate(t *testing.T) {
	r := New(Limits{})
	src := withOrientation(jpegOf(t, photo(40, 20, 4), 90), 6)
	if got := jpegOrientation(t, src); got != 6 {
		t.Fatalf("fixture orientation = %d", got)
	}
	info, err := r.Inspect(src)
	if err != nil {
		t.Fatal(err)
	}
	if info.Width != 40 || info.Height != 20 {
		t.Errorf("Inspect = %dx%d, want the stored 40x20", info.Width, info.Height)
	}

	cases := []struct {
		name            string
		p               Preset
		w, h            int
		wantOrientation int // 0: no tag
	}{
		{"autorotate", Preset{AutoRotate: true}, 20, 40, 0},
		{"no autorotate keeps the tag", Preset{}, 40, 20, 6},
		{"autorotate stripped", Preset{AutoRotate: true, StripMetadata: true}, 20, 40, 0},
		{"no autorotate stripped", Preset{StripMetadata: true}, 40, 20, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := c.p
			p.Name, p.Width, p.Height, p.Fit, p.Format = "r", 40, 40, FitInside, FormatJPEG
			res := render(t, r, src, p)
			if res.Width != c.w || res.Height != c.h {
				t.Errorf("got %dx%d, want %dx%d", res.Width, res.Height, c.w, c.h)
			}
			got := jpegOrientation(t, res.Data)
			if got == 1 && c.wantOrientation == 0 {
				got = 0 // "normal" is as good as no tag
			}
			if got != c.wantOrientation {
				t.Errorf("output orientation tag = %d, want %d", got, c.wantOrientation)
			}
		})
	}

	t.Run("fits the upright image", func(t *testing.T) {
		res := render(t, r, src, Preset{Name: "r", Width: 10, AutoRotate: true, Format: FormatPNG})
		if res.Width != 10 || res.Height != 20 {
			t.Errorf("width 10 of an upright 20x40: got %dx%d, want 10x20", res.Width, res.Height)
		}
	})
}

func TestQuality(t *testing.T) {
	r := New(Limits{})
	src := jpegOf(t, photo(256, 256, 5), 95)
	for _, f := range []Format{FormatJPEG, FormatWEBP} {
		low := render(t, r, src, Preset{Name: "q", Width: 256, Height: 256, Format: f, Quality: 20})
		high := render(t, r, src, Preset{Name: "q", Width: 256, Height: 256, Format: f, Quality: 95})
		def := render(t, r, src, Preset{Name: "q", Width: 256, Height: 256, Format: f})
		t.Logf("%s: q20 %d bytes, default (q%d) %d bytes, q95 %d bytes", f, len(low.Data), DefaultQuality, len(def.Data), len(high.Data))
		if !(len(low.Data) < len(def.Data) && len(def.Data) < len(high.Data)) {
			t.Errorf("%s sizes do not grow with quality: %d, %d, %d", f, len(low.Data), len(def.Data), len(high.Data))
		}
	}
}

func TestStripMetadata(t *testing.T) {
	r := New(Limits{})
	src := withOrientation(jpegOf(t, photo(80, 60, 6), 90), 1)
	if exif, _, _ := jpegMetadata(t, src); !exif {
		t.Fatal("fixture has no EXIF")
	}
	t.Run("jpeg kept", func(t *testing.T) {
		res := render(t, r, src, Preset{Name: "s", Width: 40, Format: FormatJPEG})
		exif, icc, _ := jpegMetadata(t, res.Data)
		if !exif {
			t.Error("EXIF dropped without StripMetadata")
		}
		t.Logf("without StripMetadata: EXIF %v, ICC %v", exif, icc)
	})
	t.Run("jpeg stripped", func(t *testing.T) {
		res := render(t, r, src, Preset{Name: "s", Width: 40, Format: FormatJPEG, StripMetadata: true})
		if exif, icc, xmp := jpegMetadata(t, res.Data); exif || icc || xmp {
			t.Errorf("stripped JPEG still has EXIF %v, ICC %v, XMP %v", exif, icc, xmp)
		}
	})
	t.Run("png", func(t *testing.T) {
		kept := pngChunkTypes(t, render(t, r, src, Preset{Name: "s", Width: 40, Format: FormatPNG}).Data)
		stripped := pngChunkTypes(t, render(t, r, src, Preset{Name: "s", Width: 40, Format: FormatPNG, StripMetadata: true}).Data)
		t.Logf("PNG chunks kept: %v, stripped: %v", kept, stripped)
		if !slices.Contains(kept, "eXIf") {
			t.Error("PNG without StripMetadata has no eXIf chunk")
		}
		for _, c := range []string{"eXIf", "iCCP", "iTXt", "tEXt", "zTXt"} {
			if slices.Contains(stripped, c) {
				t.Errorf("stripped PNG has a %s chunk", c)
			}
		}
	})
}

// TestColourProfile renders a red JPEG whose ICC profile says its red is
// blue: the output must be blue, with or without StripMetadata.
func TestColourProfile(t *testing.T) {
	r := New(Limits{})
	red := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for i := 0; i < len(red.Pix); i += 4 {
		copy(red.Pix[i:], []byte{255, 0, 0, 255})
	}
	plain := jpegOf(t, red, 100)
	tagged := withICC(plain, swappedProfile())
	if _, icc, _ := jpegMetadata(t, tagged); !icc {
		t.Fatal("fixture has no ICC profile")
	}
	cases := []struct {
		name  string
		src   []byte
		strip bool
		want  [3]uint8
	}{
		{"no profile stays red", plain, false, [3]uint8{255, 0, 0}},
		{"converted through the profile", tagged, false, [3]uint8{0, 0, 255}},
		{"converted, then stripped", tagged, true, [3]uint8{0, 0, 255}},
		{"a broken profile is ignored", withICC(plain, []byte("this is not an ICC profile, just some bytes")), false, [3]uint8{255, 0, 0}},
		{"a profile for another colour space is ignored", withICC(plain, greyProfile()), false, [3]uint8{255, 0, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := render(t, r, c.src, Preset{Name: "icc", Width: 16, Format: FormatPNG, StripMetadata: c.strip})
			img := decodePNG(t, res.Data)
			cr, cg, cb, _ := img.At(8, 8).RGBA()
			got := [3]int{int(cr >> 8), int(cg >> 8), int(cb >> 8)}
			for i := range got {
				if d := got[i] - int(c.want[i]); d < -40 || d > 40 {
					t.Fatalf("centre pixel %v, want about %v", got, c.want)
				}
			}
			chunks := pngChunkTypes(t, res.Data)
			if c.strip && slices.Contains(chunks, "iCCP") {
				t.Error("stripped output has an ICC profile")
			}
			t.Logf("centre %v, chunks %v", got, chunks)
		})
	}
}

func TestDecompressionBomb(t *testing.T) {
	r := New(Limits{})
	bombs := []struct {
		name string
		data []byte
	}{
		{"png 20000x20000", bombPNG(t, 20000, 20000)},
		{"jpeg header claiming 60000x60000", jpegClaiming(t, jpegOf(t, photo(64, 64, 7), 80), 60000, 60000)},
	}
	for _, b := range bombs {
		t.Run(b.name, func(t *testing.T) {
			if len(b.data) >= 1<<20 {
				t.Fatalf("bomb is %d bytes, want < 1 MiB", len(b.data))
			}
			start := time.Now()
			_, err := r.Inspect(b.data)
			elapsed := time.Since(start)
			wantKind(t, err, KindTooLarge)
			t.Logf("%d-byte file refused by Inspect in %v: %v", len(b.data), elapsed, err)

			start = time.Now()
			_, err = r.Render(context.Background(), b.data, Preset{Name: "b", Width: 100})
			wantKind(t, err, KindTooLarge)
			t.Logf("refused by Render in %v", time.Since(start))
		})
	}
}

func TestLimits(t *testing.T) {
	src := jpegOf(t, photo(100, 100, 8), 90)

	r := New(Limits{MaxBytes: int64(len(src)) - 1})
	_, err := r.Inspect(src)
	wantKind(t, err, KindTooLarge)

	r = New(Limits{MaxPixels: 100*100 - 1})
	_, err = r.Render(context.Background(), src, Preset{Name: "l", Width: 10})
	wantKind(t, err, KindTooLarge)

	r = New(Limits{MaxPixels: 100 * 100, MaxBytes: int64(len(src))})
	if _, err := r.Inspect(src); err != nil {
		t.Errorf("an image exactly at the limits: %v", err)
	}

	l := New(Limits{}).Limits()
	if l.MaxPixels != 50_000_000 || l.MaxBytes != 64<<20 || l.MaxConcurrent != runtime.NumCPU() {
		t.Errorf("defaults = %+v", l)
	}
}

// TestNotImages: all of these are refused with ErrNotAnImage, by Inspect
// and by Render alike.
func TestNotImages(t *testing.T) {
	r := New(Limits{})
	rng := rand.New(rand.NewPCG(9, 9))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	cases := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"random bytes", random},
		{"text", []byte("hello, this is not an image at all\n")},
		{"jpeg magic then garbage", append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, random...)},
		{"png signature only", []byte("\x89PNG\r\n\x1a\n")},
		// Loaders libvips has but flags untrusted: blocked.
		{"svg", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect width="100" height="100" fill="red"/></svg>`)},
		{"pdf", []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 72 72]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")},
		// libvips 8.14 reads BMP only through ImageMagick, which is blocked.
		{"bmp", bmpOf(32, 16)},
		{"ppm", []byte("P6\n2 2\n255\n\x00\x00\x00\xff\xff\xff\x00\x00\x00\xff\xff\xff")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := r.Inspect(c.data)
			wantKind(t, err, KindNotAnImage)
			_, err = r.Render(context.Background(), c.data, Preset{Name: "n", Width: 10})
			wantKind(t, err, KindNotAnImage)
		})
	}
}

// TestTruncated: a truncated image passes Inspect (its header is intact)
// and is refused by Render with ErrNotAnImage rather than rendered half grey.
func TestTruncated(t *testing.T) {
	r := New(Limits{})
	img := photo(400, 300, 10)
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"jpeg", jpegOf(t, img, 90)},
		{"png", pngOf(t, img)},
		{"gif", gifOf(t, img)},
	} {
		t.Run(c.name, func(t *testing.T) {
			half := c.data[:len(c.data)/2]
			if _, err := r.Inspect(half); err != nil {
				t.Fatalf("Inspect of a truncated %s: %v", c.name, err)
			}
			_, err := r.Render(context.Background(), half, Preset{Name: "t", Width: 100})
			wantKind(t, err, KindNotAnImage)
			t.Logf("%v", err)
		})
	}
}

func TestUntrustedOperationsBlocked(t *testing.T) {
	New(Limits{})
	for _, op := range []string{"svgload_buffer", "pdfload_buffer", "magickload_buffer", "jp2kload_buffer", "jxlload_buffer", "matload", "fitsload"} {
		blocked, found := operationBlocked(op)
		if !found {
			t.Logf("%s: not in this libvips", op)
			continue
		}
		if !blocked {
			t.Errorf("%s is not blocked", op)
		}
	}
	for _, op := range []string{"jpegload_buffer", "pngload_buffer", "webpload_buffer", "gifload_buffer", "tiffload_buffer", "heifload_buffer", "thumbnail_buffer"} {
		if blocked, found := operationBlocked(op); !found || blocked {
			t.Errorf("%s: blocked %v, found %v; want it available", op, blocked, found)
		}
	}
}

func TestInvalidPresetRefused(t *testing.T) {
	r := New(Limits{})
	_, err := r.Render(context.Background(), landscape(t), Preset{Name: "x"})
	wantKind(t, err, KindBadPreset)
}

// TestConcurrencyBounded runs 50 renders at once on 3 slots.
func TestConcurrencyBounded(t *testing.T) {
	const slots, renders = 3, 50
	r := New(Limits{MaxConcurrent: slots})
	src := jpegOf(t, photo(600, 400, 11), 90)
	var wg sync.WaitGroup
	errs := make(chan error, renders)
	for i := range renders {
		wg.Go(func() {
			p := Preset{Name: "c", Width: 50 + i, Height: 50, Fit: []Fit{FitCover, FitContain, FitFill, FitInside}[i%4], Format: []Format{FormatJPEG, FormatPNG, FormatWEBP}[i%3]}
			res, err := r.Render(context.Background(), src, p)
			if err == nil && (res.Width > 50+i || res.Height > 50) {
				err = fmt.Errorf("%+v gave %dx%d", p, res.Width, res.Height)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	peak := r.peak.Load()
	t.Logf("peak concurrent renders: %d of %d slots", peak, slots)
	if peak > slots {
		t.Errorf("%d renders ran at once, limit %d", peak, slots)
	}
	if r.active.Load() != 0 || len(r.slots) != 0 {
		t.Errorf("after the renders: %d active, %d slots held", r.active.Load(), len(r.slots))
	}

	if d := New(Limits{}); cap(d.slots) != runtime.NumCPU() {
		t.Errorf("default slots = %d, want NumCPU %d", cap(d.slots), runtime.NumCPU())
	}
}

func TestRenderWaitsForSlotUntilContextEnds(t *testing.T) {
	r := New(Limits{MaxConcurrent: 1})
	r.slots <- struct{}{} // someone else is rendering
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := r.Render(ctx, landscape(t), Preset{Name: "w", Width: 10})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("returned after %v", d)
	}
	<-r.slots
	if _, err := r.Render(context.Background(), landscape(t), Preset{Name: "w", Width: 10}); err != nil {
		t.Errorf("with the slot free: %v", err)
	}
}

func TestSafelyRecovers(t *testing.T) {
	for _, kind := range []Kind{KindInternal, KindNotAnImage} {
		err := safely(kind, func() error { panic("boom") })
		wantKind(t, err, kind)
		if !bytes.Contains([]byte(err.Error()), []byte("boom")) {
			t.Errorf("the panic value is lost from %q", err)
		}
	}
	if err := safely(KindInternal, func() error { return nil }); err != nil {
		t.Error(err)
	}
}

var fuzzRenderer = sync.OnceValue(func() *Renderer { return New(Limits{MaxPixels: 4_000_000, MaxBytes: 1 << 20}) })

// FuzzInspect feeds arbitrary bytes to Inspect: no panic, and every refusal
// is ErrNotAnImage or ErrTooLarge. What Inspect accepts is rendered too, which
// may only fail with ErrNotAnImage.
func FuzzInspect(f *testing.F) {
	img := photo(24, 16, 12)
	f.Add(jpegOf(f, img, 80))
	f.Add(withOrientation(jpegOf(f, img, 80), 6))
	f.Add(pngOf(f, img))
	f.Add(gifOf(f, img))
	f.Add(tiffOf(img))
	f.Add(bmpOf(4, 4))
	f.Add(bombPNG(f, 3000, 3000)[:200])
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	f.Add([]byte("\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf"))
	f.Add([]byte{})
	r := fuzzRenderer()
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := r.Inspect(data)
		if err != nil {
			if !errors.Is(err, ErrNotAnImage) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Inspect: %v", err)
			}
			return
		}
		if info.Width <= 0 || info.Height <= 0 || int64(info.Width)*int64(info.Height) > r.limits.MaxPixels || info.Mime == "" {
			t.Fatalf("Inspect accepted %+v", info)
		}
		res, err := r.Render(context.Background(), data, Preset{Name: "fuzz", Width: 16, Height: 16, Fit: FitContain, Format: FormatPNG})
		if err != nil {
			if !errors.Is(err, ErrNotAnImage) {
				t.Fatalf("Render of an inspected image: %v", err)
			}
			return
		}
		if res.Width != 16 || res.Height != 16 {
			t.Fatalf("contain 16x16 gave %dx%d", res.Width, res.Height)
		}
	})
}
