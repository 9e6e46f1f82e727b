package transforms

/*
#cgo pkg-config: vips
#include <stdlib.h>
#include <glib.h>
#include "render.h"
*/
import "C"

import (
	"os"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/h2non/bimg"
)

// bimg starts libvips in its package init, before any code of ours runs, and
// sets a 100 MiB / 500 operation cache and one libvips worker thread per
// operation. configure tightens that once, before the first image is looked at:
//
//   - untrusted operations (ImageMagick, PDF, SVG, FITS, OpenEXR, ... every
//     loader libvips flags as not fuzzed for hostile input) are blocked.
//     libvips also reads VIPS_BLOCK_UNTRUSTED=1 from the environment, but only
//     in vips_init, which bimg calls during package initialisation: setting it
//     from Go is too late, so it has to be in the process environment;
//   - the operation cache is off (0 operations, 0 bytes). Renders never repeat
//     an operation on the same pixels, the cache would only pin memory next to
//     the render slots, and a cached buffer load must never outlive its Go
//     buffer;
//   - libvips uses one worker thread per render (unless VIPS_CONCURRENCY is
//     set): the Renderer runs NumCPU renders at once, so the CPUs are used
//     across images rather than inside one.
var configure = sync.OnceFunc(func() {
	concurrency := 1
	if os.Getenv("VIPS_CONCURRENCY") != "" {
		concurrency = 0 // keep what vips_init read
	}
	C.satchel_configure(C.int(concurrency))
	bimg.VipsCacheSetMax(0)
	bimg.VipsCacheSetMaxMem(0)
	// Not bimg.VipsCacheDropAll: vips_cache_drop_all frees the cache's
	// table (it is meant for shutdown) and the next operation crashes.
})

var formats = sync.OnceValue(func() []Format {
	configure()
	var fs []Format
	for _, f := range []struct {
		format Format
		bimg   bimg.ImageType
	}{{FormatJPEG, bimg.JPEG}, {FormatPNG, bimg.PNG}, {FormatWEBP, bimg.WEBP}} {
		if bimg.IsTypeSupportedSave(f.bimg) {
			fs = append(fs, f.format)
		}
	}
	// heifsave exists whenever libvips has libheif, even when libheif has no
	// AV1 encoder: only encoding an image proves it.
	if bimg.IsTypeSupportedSave(bimg.AVIF) && C.satchel_can_write_avif() != 0 {
		fs = append(fs, FormatAVIF)
	}
	return fs
})

// Formats reports which output formats this libvips can write. JPEG, PNG and
// WEBP are there on any usual build; AVIF only where libvips has libheif with
// an AV1 encoder.
func Formats() []Format { return slices.Clone(formats()) }

func formatSupported(f Format) bool { return slices.Contains(formats(), f) }

// Loader nicknames (see render.c) and the MIME types they read.
var loaderMimes = map[string]string{
	"jpegload_buffer": "image/jpeg",
	"pngload_buffer":  "image/png",
	"webpload_buffer": "image/webp",
	"gifload_buffer":  "image/gif",
	"tiffload_buffer": "image/tiff",
	"heifload_buffer": "image/heif", // refined to image/avif by its brand
}

// vipsStatus is satchel_status from render.h.
type vipsStatus int

const (
	vipsOK         vipsStatus = C.SATCHEL_OK
	vipsUntrusted  vipsStatus = C.SATCHEL_UNTRUSTED
	vipsUnreadable vipsStatus = C.SATCHEL_UNREADABLE
	vipsFailed     vipsStatus = C.SATCHEL_FAILED
)

// header is what libvips reads from an image's header, decoding no pixels.
type header struct {
	width, height int
	icc           bool // carries an ICC profile
	loader        string
}

// readHeader opens buf lazily with a trusted loader. buf must not be empty.
// libvips only reads buf during the call: every image made from it is
// released before the call returns, so passing Go memory is safe.
func readHeader(buf []byte) (header, vipsStatus, string) {
	var h C.satchel_header
	var msg *C.char
	st := vipsStatus(C.satchel_header_read(unsafe.Pointer(&buf[0]), C.size_t(len(buf)), &h, &msg))
	if st != vipsOK {
		return header{}, st, takeMessage(msg)
	}
	return header{width: int(h.width), height: int(h.height), icc: h.icc != 0, loader: C.GoString(h.loader)}, vipsOK, ""
}

// renderParams is satchel_params from render.h, in Go.
type renderParams struct {
	width, height int
	fit           Fit
	format        Format
	quality       int
	strip         bool
	autoRotate    bool
	icc           bool // the source has an ICC profile (header.icc)
}

var (
	cFits    = map[Fit]C.int{FitCover: C.SATCHEL_FIT_COVER, FitContain: C.SATCHEL_FIT_CONTAIN, FitFill: C.SATCHEL_FIT_FILL, FitInside: C.SATCHEL_FIT_INSIDE}
	cFormats = map[Format]C.int{FormatJPEG: C.SATCHEL_FORMAT_JPEG, FormatPNG: C.SATCHEL_FORMAT_PNG, FormatWEBP: C.SATCHEL_FORMAT_WEBP, FormatAVIF: C.SATCHEL_FORMAT_AVIF}
)

// renderVips runs the whole pipeline (load, resize, rotate, colour, crop or
// pad, encode) in one call into libvips. buf must not be empty; as for
// readHeader, libvips holds on to it only during the call.
func renderVips(buf []byte, rp renderParams) ([]byte, vipsStatus, string) {
	fit, ok := cFits[rp.fit]
	if !ok {
		fit = C.SATCHEL_FIT_INSIDE // one-side presets: fit is unused
	}
	p := C.satchel_params{
		width:      C.int(rp.width),
		height:     C.int(rp.height),
		fit:        fit,
		format:     cFormats[rp.format],
		quality:    C.int(rp.quality),
		strip:      cBool(rp.strip),
		autorotate: cBool(rp.autoRotate),
		icc:        cBool(rp.icc),
	}
	var out unsafe.Pointer
	var n C.size_t
	var msg *C.char
	st := vipsStatus(C.satchel_render(unsafe.Pointer(&buf[0]), C.size_t(len(buf)), &p, &out, &n, &msg))
	if st != vipsOK {
		return nil, st, takeMessage(msg)
	}
	defer C.g_free(C.gpointer(out))
	return C.GoBytes(out, C.int(n)), vipsOK, ""
}

// operationBlocked reports whether libvips refuses to run the operation with
// this nickname (e.g. "svgload_buffer"); found is false for unknown ones.
func operationBlocked(nickname string) (blocked, found bool) {
	configure()
	cs := C.CString(nickname)
	defer C.free(unsafe.Pointer(cs))
	switch C.satchel_operation_blocked(cs) {
	case -1:
		return false, false
	case 0:
		return false, true
	}
	return true, true
}

func cBool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// takeMessage returns a libvips error message (from vips_error_buffer_copy)
// and frees it. Messages are for logs only: libvips' error buffer is shared by
// all threads, so it may mention another render's trouble too.
func takeMessage(msg *C.char) string {
	if msg == nil {
		return ""
	}
	defer C.g_free(C.gpointer(msg))
	return strings.TrimSpace(C.GoString(msg))
}
