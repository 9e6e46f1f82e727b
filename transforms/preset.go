package transforms

import (
	"regexp"
	"strings"
)

// Fit says how an image goes into a Width x Height box. See the package
// documentation for the exact rules.
type Fit string

// The fits.
const (
	FitCover   Fit = "cover"   // fill the box, crop the overflow (centre)
	FitContain Fit = "contain" // fit inside, pad to the box
	FitFill    Fit = "fill"    // stretch to the box
	FitInside  Fit = "inside"  // fit inside, no padding
)

// Format is an output format.
type Format string

// The output formats. Formats reports which ones this libvips can write.
const (
	FormatJPEG Format = "jpeg"
	FormatPNG  Format = "png"
	FormatWEBP Format = "webp"
	FormatAVIF Format = "avif"
)

// Mime is the format's media type.
func (f Format) Mime() string { return "image/" + string(f) }

// Preset limits.
const (
	MaxDimension   = 8192 // largest Width or Height
	MaxNameLength  = 64
	DefaultQuality = 80 // used when Quality is 0
)

// Preset is a named transformation.
type Preset struct {
	// Name is 1..64 of a-z, 0-9, '_' and '-', starting with a letter or a
	// digit: it appears in URLs (/files/{id}/{name}).
	Name string
	// Width and Height are the box, in pixels, 0..MaxDimension. 0 leaves
	// that side free (the aspect ratio decides it); at least one is > 0.
	Width, Height int
	// Fit applies when both sides are set and defaults to FitCover. With one
	// side set it is ignored (but must still be a known fit or empty).
	Fit Fit
	// Format is the output format. Empty keeps JPEG, PNG and WEBP sources in
	// their format and turns every other source (GIF, TIFF, HEIF, AVIF) into
	// WEBP, which keeps transparency, is small for photos and shows in every
	// current browser.
	Format Format
	// Quality is 1..100 for JPEG, WEBP and AVIF; 0 means DefaultQuality. PNG
	// is lossless and ignores it.
	Quality int
	// StripMetadata drops EXIF, XMP, IPTC and the ICC profile. The pixels
	// are converted to sRGB in every case, so colours stay right without the
	// profile.
	StripMetadata bool
	// AutoRotate turns the pixels upright according to the EXIF orientation
	// and drops the orientation tag. Without it the pixels stay as stored
	// and the tag is kept (unless StripMetadata), so viewers that honour it
	// still show the image upright.
	AutoRotate bool
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// Validate normalises p (trims the name; lower-cases fit and format, "jpg"
// reads as jpeg; an empty fit with both sides set becomes FitCover) and
// checks it. Errors are *Error of KindBadPreset (ErrBadPreset). A normalised
// preset validates again unchanged.
func (p *Preset) Validate() error {
	p.Name = strings.TrimSpace(p.Name)
	p.Fit = Fit(strings.ToLower(strings.TrimSpace(string(p.Fit))))
	p.Format = Format(strings.ToLower(strings.TrimSpace(string(p.Format))))
	if p.Format == "jpg" {
		p.Format = FormatJPEG
	}
	if p.Width > 0 && p.Height > 0 && p.Fit == "" {
		p.Fit = FitCover
	}

	switch {
	case len(p.Name) == 0 || len(p.Name) > MaxNameLength || !nameRE.MatchString(p.Name):
		return errorf(KindBadPreset, "preset name must be 1 to %d characters of a-z, 0-9, '_' and '-', starting with a letter or a digit", MaxNameLength)
	case p.Width < 0 || p.Width > MaxDimension:
		return errorf(KindBadPreset, "width must be between 0 and %d", MaxDimension)
	case p.Height < 0 || p.Height > MaxDimension:
		return errorf(KindBadPreset, "height must be between 0 and %d", MaxDimension)
	case p.Width == 0 && p.Height == 0:
		return newError(KindBadPreset, "width or height (or both) must be set")
	case p.Quality < 0 || p.Quality > 100:
		return newError(KindBadPreset, "quality must be between 1 and 100 (0 for the default)")
	}
	switch p.Fit {
	case "", FitCover, FitContain, FitFill, FitInside:
	default:
		return newError(KindBadPreset, "fit must be one of cover, contain, fill, inside")
	}
	switch p.Format {
	case "", FormatJPEG, FormatPNG, FormatWEBP:
	case FormatAVIF:
		if !formatSupported(FormatAVIF) {
			return newError(KindBadPreset, "format avif is not supported by this server")
		}
	default:
		return newError(KindBadPreset, "format must be one of jpeg, png, webp, avif")
	}
	return nil
}

// outputFormat is the format p renders a source of type srcMime to.
func (p *Preset) outputFormat(srcMime string) Format {
	if p.Format != "" {
		return p.Format
	}
	switch srcMime {
	case "image/jpeg":
		return FormatJPEG
	case "image/png":
		return FormatPNG
	}
	return FormatWEBP
}

// quality is p's quality with the default applied.
func (p *Preset) quality() int {
	if p.Quality == 0 {
		return DefaultQuality
	}
	return p.Quality
}
