package transforms

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// photo12MP returns a 4000x3000 JPEG of gradients and noise (a few MB, like
// a phone photo), made once and cached under os.TempDir().
func photo12MP(b *testing.B) []byte {
	b.Helper()
	path := filepath.Join(os.TempDir(), "satchel-bench-12mp-v1.jpg")
	if data, err := os.ReadFile(path); err == nil {
		if h, st, _ := readHeader(data); st == vipsOK && h.width == 4000 && h.height == 3000 {
			return data
		}
	}
	data := jpegOf(b, photo(4000, 3000, 42), 90)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".satchel-bench-*.jpg")
	if err != nil {
		b.Fatal(err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		b.Fatal(err)
	}
	if err := tmp.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkThumbnail12MP renders a 12-megapixel JPEG to a 256x256 (inside)
// WEBP thumbnail, one render at a time.
func BenchmarkThumbnail12MP(b *testing.B) {
	src := photo12MP(b)
	r := New(Limits{})
	p := Preset{Name: "thumb", Width: 256, Height: 256, Fit: FitInside, Format: FormatWEBP}
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		res, err := r.Render(context.Background(), src, p)
		if err != nil {
			b.Fatal(err)
		}
		if res.Width != 256 || res.Height != 192 {
			b.Fatalf("got %dx%d, want 256x192", res.Width, res.Height)
		}
	}
	b.ReportMetric(float64(len(src))/(1<<20), "input-MiB")
}
