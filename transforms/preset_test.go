package transforms

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		name    string
		in      Preset
		want    Preset // after normalisation, when valid
		wantErr string // substring of the message, when invalid
	}{
		{"minimal", Preset{Name: "thumb", Width: 100}, Preset{Name: "thumb", Width: 100}, ""},
		{"both sides default to cover", Preset{Name: "t", Width: 10, Height: 20}, Preset{Name: "t", Width: 10, Height: 20, Fit: FitCover}, ""},
		{"one side keeps fit empty", Preset{Name: "t", Height: 20}, Preset{Name: "t", Height: 20}, ""},
		{"one side keeps a given fit", Preset{Name: "t", Height: 20, Fit: FitFill}, Preset{Name: "t", Height: 20, Fit: FitFill}, ""},
		{"enums are case-insensitive", Preset{Name: "t", Width: 1, Height: 1, Fit: " CONTAIN ", Format: "WebP"}, Preset{Name: "t", Width: 1, Height: 1, Fit: FitContain, Format: FormatWEBP}, ""},
		{"jpg is jpeg", Preset{Name: "t", Width: 1, Format: "JPG"}, Preset{Name: "t", Width: 1, Format: FormatJPEG}, ""},
		{"name trimmed", Preset{Name: "  small-2_x\n", Width: 1}, Preset{Name: "small-2_x", Width: 1}, ""},
		{"name starting with a digit", Preset{Name: "2x", Width: 1}, Preset{Name: "2x", Width: 1}, ""},
		{"64-character name", Preset{Name: strings.Repeat("a", 64), Width: 1}, Preset{Name: strings.Repeat("a", 64), Width: 1}, ""},
		{"limits", Preset{Name: "t", Width: 8192, Height: 8192, Quality: 100, StripMetadata: true, AutoRotate: true}, Preset{Name: "t", Width: 8192, Height: 8192, Fit: FitCover, Quality: 100, StripMetadata: true, AutoRotate: true}, ""},

		{"empty name", Preset{Width: 1}, Preset{}, "preset name"},
		{"65-character name", Preset{Name: strings.Repeat("a", 65), Width: 1}, Preset{}, "preset name"},
		{"upper-case name", Preset{Name: "Thumb", Width: 1}, Preset{}, "preset name"},
		{"name starting with -", Preset{Name: "-t", Width: 1}, Preset{}, "preset name"},
		{"name starting with _", Preset{Name: "_t", Width: 1}, Preset{}, "preset name"},
		{"name with a slash", Preset{Name: "a/b", Width: 1}, Preset{}, "preset name"},
		{"name with a dot", Preset{Name: "a.b", Width: 1}, Preset{}, "preset name"},
		{"name with a space", Preset{Name: "a b", Width: 1}, Preset{}, "preset name"},
		{"non-ASCII name", Preset{Name: "täst", Width: 1}, Preset{}, "preset name"},
		{"no size", Preset{Name: "t"}, Preset{}, "width or height"},
		{"negative width", Preset{Name: "t", Width: -1, Height: 5}, Preset{}, "width"},
		{"width too large", Preset{Name: "t", Width: 8193}, Preset{}, "width"},
		{"height too large", Preset{Name: "t", Height: 8193}, Preset{}, "height"},
		{"negative quality", Preset{Name: "t", Width: 1, Quality: -1}, Preset{}, "quality"},
		{"quality too high", Preset{Name: "t", Width: 1, Quality: 101}, Preset{}, "quality"},
		{"unknown fit", Preset{Name: "t", Width: 1, Height: 1, Fit: "crop"}, Preset{}, "fit"},
		{"unknown fit with one side", Preset{Name: "t", Width: 1, Fit: "stretch"}, Preset{}, "fit"},
		{"unknown format", Preset{Name: "t", Width: 1, Format: "gif"}, Preset{}, "format"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := c.in
			err := p.Validate()
			if c.wantErr != "" {
				var te *Error
				if !errors.As(err, &te) || te.Kind != KindBadPreset {
					t.Fatalf("got %v, want an ErrBadPreset error", err)
				}
				if !strings.Contains(te.Message, c.wantErr) {
					t.Errorf("message %q does not mention %q", te.Message, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p != c.want {
				t.Errorf("normalised to %+v, want %+v", p, c.want)
			}
		})
	}
}

func TestValidateAVIF(t *testing.T) {
	p := Preset{Name: "a", Width: 10, Format: FormatAVIF}
	err := p.Validate()
	if slices.Contains(Formats(), FormatAVIF) {
		if err != nil {
			t.Errorf("AVIF is writable here, Validate says %v", err)
		}
		return
	}
	if !errors.Is(err, ErrBadPreset) {
		t.Errorf("AVIF is not writable here, Validate says %v", err)
	}
}

func TestOutputFormatDefault(t *testing.T) {
	for src, want := range map[string]Format{
		"image/jpeg": FormatJPEG, "image/png": FormatPNG, "image/webp": FormatWEBP,
		"image/gif": FormatWEBP, "image/tiff": FormatWEBP, "image/heif": FormatWEBP, "image/avif": FormatWEBP,
	} {
		p := Preset{}
		if got := p.outputFormat(src); got != want {
			t.Errorf("%s -> %s, want %s", src, got, want)
		}
	}
	p := Preset{Format: FormatPNG}
	if got := p.outputFormat("image/jpeg"); got != FormatPNG {
		t.Errorf("an explicit format is overridden: %s", got)
	}
}

// FuzzPresetValidate: Validate never panics, fails only with
// ErrBadPreset, and what it accepts is within bounds and a fixed point.
func FuzzPresetValidate(f *testing.F) {
	f.Add("thumb", 100, 100, "cover", "webp", 80, true, true)
	f.Add(" Small ", 0, 64, "INSIDE", "JPG", 0, false, false)
	f.Add("a", 8192, 8193, "", "", 101, false, true)
	f.Add("x-y_z", -1, 0, "fill", "avif", -5, true, false)
	f.Add("\u212a", 1, 1, "\u212aontain", "pnG", 100, false, false)
	f.Fuzz(func(t *testing.T, name string, w, h int, fit, format string, q int, strip, rotate bool) {
		p := Preset{Name: name, Width: w, Height: h, Fit: Fit(fit), Format: Format(format), Quality: q, StripMetadata: strip, AutoRotate: rotate}
		if err := p.Validate(); err != nil {
			var te *Error
			if !errors.As(err, &te) || te.Kind != KindBadPreset || te.Message == "" {
				t.Fatalf("Validate: %v, want ErrBadPreset with a message", err)
			}
			return
		}
		switch {
		case len(p.Name) < 1 || len(p.Name) > MaxNameLength || !nameRE.MatchString(p.Name):
			t.Fatalf("accepted name %q", p.Name)
		case p.Width < 0 || p.Width > MaxDimension || p.Height < 0 || p.Height > MaxDimension || p.Width+p.Height == 0:
			t.Fatalf("accepted size %dx%d", p.Width, p.Height)
		case p.Quality < 0 || p.Quality > 100:
			t.Fatalf("accepted quality %d", p.Quality)
		case p.Width > 0 && p.Height > 0 && p.Fit == "":
			t.Fatalf("no fit for a %dx%d box", p.Width, p.Height)
		case !slices.Contains([]Fit{"", FitCover, FitContain, FitFill, FitInside}, p.Fit):
			t.Fatalf("accepted fit %q", p.Fit)
		case !slices.Contains([]Format{"", FormatJPEG, FormatPNG, FormatWEBP, FormatAVIF}, p.Format):
			t.Fatalf("accepted format %q", p.Format)
		case p.StripMetadata != strip || p.AutoRotate != rotate:
			t.Fatalf("flags changed")
		}
		again := p
		if err := again.Validate(); err != nil {
			t.Fatalf("a normalised preset %+v fails again: %v", p, err)
		}
		if again != p {
			t.Fatalf("normalising twice changed %+v to %+v", p, again)
		}
	})
}
