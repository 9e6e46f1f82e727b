// Package transforms renders named image presets (Upload.io-style
// transformations) with libvips, safely. It is the only package of Satchel
// that touches libvips or bimg.
//
// # Fits
//
// A Preset sets a box of Width x Height pixels, or only one side of it.
//
//   - cover: scale so the image fills the whole box, then crop the overflow
//     around the centre. The output is exactly Width x Height; a smaller
//     image is enlarged.
//   - contain: scale so the image fits inside the box, then pad it, centred,
//     to exactly Width x Height. The padding is transparent for PNG, WEBP and
//     AVIF and white for JPEG. A smaller image is not enlarged, only padded.
//   - fill: stretch to exactly Width x Height, ignoring the aspect ratio
//     (enlarging if needed).
//   - inside: scale so the image fits inside the box, never padding: one
//     side may come out shorter. A smaller image is not enlarged.
//   - one side only (Width or Height is 0): scale to that side, keeping the
//     aspect ratio; Fit is ignored. A smaller image is not enlarged.
//
// In short: cover, fill and contain always produce the box; inside and
// one-side presets only ever shrink. Upload.io and Bytescale do not enlarge
// for fit-inside either; enlarging a thumbnail source only adds blur and
// bytes.
//
// Sizes are those of the upright image when AutoRotate is set (a portrait
// photo stored sideways is fitted as a portrait). Animated images (GIF,
// WEBP) render their first frame; multi-page TIFFs their first page.
//
// # Output
//
// Format "" keeps JPEG and PNG sources as they are and writes everything
// else as WEBP. Quality (default 80) applies to JPEG, WEBP and AVIF; PNG is
// lossless. Pixels always leave as 8-bit sRGB (greyscale stays greyscale):
// an embedded ICC profile (Display P3, Adobe RGB, CMYK, ...) is used to
// convert them and is replaced by sRGB's; a broken or mismatched profile is
// ignored. So StripMetadata, which drops EXIF, XMP, IPTC and the ICC
// profile, does not change how the image looks. AutoRotate applies the EXIF
// orientation and drops the tag. Formats lists what this libvips can write
// (AVIF needs libheif with an AV1 encoder).
//
// # Safety
//
// Every input is untrusted:
//
//   - Inspect refuses before decoding: a file over Limits.MaxBytes, or whose
//     header claims more than Limits.MaxPixels (a decompression bomb), is
//     ErrTooLarge; anything that is not JPEG, PNG, WEBP, GIF, TIFF, HEIF or
//     AVIF is ErrNotAnImage. Render always calls Inspect first.
//   - libvips' untrusted operations are blocked (vips_block_untrusted_set,
//     libvips >= 8.13) before the first image is processed: ImageMagick,
//     PDF, SVG, FITS, OpenEXR, Matlab, ... cannot be reached even by a file
//     that sniffs as one. bimg starts libvips in its package init, so
//     setting VIPS_BLOCK_UNTRUSTED from Go would be too late; the variable
//     still works when it is in the process environment
//     (VIPS_BLOCK_UNTRUSTED=1 satchel serve), as a belt to these braces.
//   - Only the loaders above are used, also when rendering: the bytes are
//     matched to a loader again right before decoding.
//   - Truncated input fails (libvips fail_on=truncated) with ErrNotAnImage
//     instead of rendering a half-grey image.
//   - Every call that touches image data (header reads, renders, reading
//     the output back) runs under recover and ends as an ErrNotAnImage or
//     ErrInternal error. bimg's Trim is never used.
//   - At most Limits.MaxConcurrent renders run at once (default NumCPU),
//     each with one libvips worker thread (unless VIPS_CONCURRENCY is set);
//     the libvips operation cache is off, so memory is bounded by the
//     renders in flight.
//
// # Errors
//
// Every refusal is an *Error whose Kind says why (ErrBadPreset,
// ErrNotAnImage, ErrTooLarge, ErrInternal; match them with errors.Is) and
// whose Message may be shown to whoever sent the preset or the input. The
// package imports nothing of Satchel's: its callers decide what a Kind means
// to their clients.
//
// # bimg and libvips
//
// bimg starts libvips (in its package init), answers which formats libvips
// can write and sets the operation cache. Headers and renders go through this
// package's own cgo (render.c): one call per render, vips_thumbnail_buffer
// followed by flatten/embed and the encoder. bimg 1.1.9 cannot be used for
// them on untrusted uploads: bimg.Size and bimg.Metadata leak about 2 KiB of
// C strings per call (every EXIF tag name goes through an unfreed
// C.CString); bimg.Resize stretches to the box unless told to crop or
// embed, leaves the EXIF orientation tag on pixels it has already turned
// (viewers turn them again), does not pad an image smaller than the box
// with Embed, and resamples without premultiplying alpha (dark fringes).
//
// libvips' own warnings (VIPS-WARNING on stderr) are silenced: a hostile
// file can make a loader warn hundreds of times, and the reason a render
// failed is in its error.
package transforms
