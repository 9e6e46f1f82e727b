package transforms

// Test images, made here so no binary fixtures are needed, and parsers for
// the bits of JPEG and PNG the tests assert on.

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"testing"
)

// photo is a w x h image with gradients and noise, so that encoders have
// something realistic to chew on.
func photo(w, h int, seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 0x5a7c4e1))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			n := rng.IntN(41) - 20
			img.SetRGBA(x, y, color.RGBA{
				R: clamp(x*255/max(w-1, 1) + n),
				G: clamp(y*255/max(h-1, 1) + n),
				B: clamp((x+y)*255/max(w+h-2, 1) - n),
				A: 255,
			})
		}
	}
	return img
}

func clamp(v int) uint8 { return uint8(min(max(v, 0), 255)) }

func jpegOf(t testing.TB, img image.Image, quality int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func pngOf(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gifOf(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withOrientation returns jpg with an APP1 EXIF segment holding only the
// orientation tag, right after SOI (Go's encoder writes no APP segments).
func withOrientation(jpg []byte, orientation uint16) []byte {
	tiff := []byte{'M', 'M', 0, 42, 0, 0, 0, 8} // big endian, IFD0 at 8
	tiff = binary.BigEndian.AppendUint16(tiff, 1)
	tiff = binary.BigEndian.AppendUint16(tiff, 0x0112) // Orientation
	tiff = binary.BigEndian.AppendUint16(tiff, 3)      // SHORT
	tiff = binary.BigEndian.AppendUint32(tiff, 1)
	tiff = binary.BigEndian.AppendUint16(tiff, orientation)
	tiff = append(tiff, 0, 0, 0, 0, 0, 0) // value padding, no next IFD
	payload := append([]byte("Exif\x00\x00"), tiff...)

	out := append([]byte{}, jpg[:2]...)
	out = append(out, 0xFF, 0xE1)
	out = binary.BigEndian.AppendUint16(out, uint16(len(payload)+2))
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

type segment struct {
	marker byte
	data   []byte
}

// jpegSegments lists a JPEG's marker segments up to the start of scan.
func jpegSegments(t testing.TB, jpg []byte) []segment {
	t.Helper()
	if len(jpg) < 4 || jpg[0] != 0xFF || jpg[1] != 0xD8 {
		t.Fatalf("not a JPEG")
	}
	var segs []segment
	for i := 2; i+4 <= len(jpg); {
		if jpg[i] != 0xFF {
			t.Fatalf("bad marker at %d", i)
		}
		m := jpg[i+1]
		n := int(binary.BigEndian.Uint16(jpg[i+2:]))
		if i+2+n > len(jpg) {
			t.Fatalf("segment %x overruns the file", m)
		}
		segs = append(segs, segment{m, jpg[i+4 : i+2+n]})
		if m == 0xDA {
			break
		}
		i += 2 + n
	}
	return segs
}

// jpegMetadata reports which metadata segments a JPEG carries.
func jpegMetadata(t testing.TB, jpg []byte) (exif, icc, xmp bool) {
	for _, s := range jpegSegments(t, jpg) {
		switch {
		case s.marker == 0xE1 && bytes.HasPrefix(s.data, []byte("Exif\x00")):
			exif = true
		case s.marker == 0xE1 && bytes.HasPrefix(s.data, []byte("http://ns.adobe.com/xap/")):
			xmp = true
		case s.marker == 0xE2 && bytes.HasPrefix(s.data, []byte("ICC_PROFILE\x00")):
			icc = true
		}
	}
	return exif, icc, xmp
}

// jpegOrientation returns the EXIF orientation of a JPEG, 0 if it has none.
func jpegOrientation(t testing.TB, jpg []byte) int {
	for _, s := range jpegSegments(t, jpg) {
		if s.marker != 0xE1 || !bytes.HasPrefix(s.data, []byte("Exif\x00\x00")) {
			continue
		}
		tiff := s.data[6:]
		if len(tiff) < 8 {
			t.Fatalf("short EXIF")
		}
		var bo binary.ByteOrder = binary.BigEndian
		if string(tiff[:2]) == "II" {
			bo = binary.LittleEndian
		}
		ifd := int(bo.Uint32(tiff[4:]))
		if ifd+2 > len(tiff) {
			t.Fatalf("EXIF IFD0 out of range")
		}
		n := int(bo.Uint16(tiff[ifd:]))
		for e := 0; e < n; e++ {
			off := ifd + 2 + 12*e
			if off+12 > len(tiff) {
				t.Fatalf("EXIF entry out of range")
			}
			if bo.Uint16(tiff[off:]) == 0x0112 {
				return int(bo.Uint16(tiff[off+8:]))
			}
		}
	}
	return 0
}

// pngChunkTypes lists a PNG's chunk types in order.
func pngChunkTypes(t testing.TB, p []byte) []string {
	t.Helper()
	if !bytes.HasPrefix(p, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("not a PNG")
	}
	var types []string
	for i := 8; i+8 <= len(p); {
		n := int(binary.BigEndian.Uint32(p[i:]))
		types = append(types, string(p[i+4:i+8]))
		i += 12 + n
	}
	return types
}

func pngChunk(typ string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(c, typ...)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// bombPNG is a valid w x h 1-bit greyscale PNG of zeros: a few bytes per
// megapixel on disk, w*h pixels once decoded.
func bombPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, 1, 0, 0, 0, 0) // 1 bit, greyscale, deflate, filter 0, no interlace

	var idat bytes.Buffer
	z, err := zlib.NewWriterLevel(&idat, zlib.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	row := make([]byte, 1+(w+7)/8) // filter byte + packed zeros
	for y := 0; y < h; y++ {
		if _, err := z.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}

	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, pngChunk("IHDR", ihdr)...)
	out = append(out, pngChunk("IDAT", idat.Bytes())...)
	return append(out, pngChunk("IEND", nil)...)
}

// jpegClaiming rewrites the frame header of jpg to claim w x h pixels
// while the data stays that of the small image.
func jpegClaiming(t testing.TB, jpg []byte, w, h int) []byte {
	t.Helper()
	out := append([]byte{}, jpg...)
	for i := 2; i+9 < len(out); {
		m := out[i+1]
		n := int(binary.BigEndian.Uint16(out[i+2:]))
		if m == 0xC0 || m == 0xC2 {
			binary.BigEndian.PutUint16(out[i+5:], uint16(h))
			binary.BigEndian.PutUint16(out[i+7:], uint16(w))
			return out
		}
		i += 2 + n
	}
	t.Fatal("no SOF in JPEG")
	return nil
}

// bmpOf is an uncompressed 24-bit BMP of a solid colour.
func bmpOf(w, h int) []byte {
	stride := (w*3 + 3) &^ 3
	size := 54 + stride*h
	b := []byte("BM")
	b = binary.LittleEndian.AppendUint32(b, uint32(size))
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 54)
	b = binary.LittleEndian.AppendUint32(b, 40) // BITMAPINFOHEADER
	b = binary.LittleEndian.AppendUint32(b, uint32(w))
	b = binary.LittleEndian.AppendUint32(b, uint32(h))
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, 24)
	b = append(b, make([]byte, 24)...) // compression .. important colours
	for y := 0; y < h; y++ {
		row := make([]byte, stride)
		for x := 0; x < w; x++ {
			copy(row[3*x:], []byte{200, 100, 50})
		}
		b = append(b, row...)
	}
	return b
}

// tiffOf is an uncompressed 8-bit RGB TIFF (one strip) of img.
func tiffOf(img *image.RGBA) []byte {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	const entries = 9
	bitsAt := 8 + 2 + entries*12 + 4
	dataAt := bitsAt + 6
	le := binary.LittleEndian
	b := []byte{'I', 'I', 42, 0}
	b = le.AppendUint32(b, 8)
	b = le.AppendUint16(b, entries)
	entry := func(tag, typ uint16, count, value uint32) {
		b = le.AppendUint16(b, tag)
		b = le.AppendUint16(b, typ)
		b = le.AppendUint32(b, count)
		if typ == 3 && count == 1 {
			b = le.AppendUint16(b, uint16(value))
			b = le.AppendUint16(b, 0)
		} else {
			b = le.AppendUint32(b, value)
		}
	}
	entry(256, 4, 1, uint32(w))      // ImageWidth
	entry(257, 4, 1, uint32(h))      // ImageLength
	entry(258, 3, 3, uint32(bitsAt)) // BitsPerSample -> 8,8,8
	entry(259, 3, 1, 1)              // Compression: none
	entry(262, 3, 1, 2)              // Photometric: RGB
	entry(273, 4, 1, uint32(dataAt)) // StripOffsets
	entry(277, 3, 1, 3)              // SamplesPerPixel
	entry(278, 4, 1, uint32(h))      // RowsPerStrip
	entry(279, 4, 1, uint32(w*h*3))  // StripByteCounts
	b = le.AppendUint32(b, 0)        // no next IFD
	b = append(b, 8, 0, 8, 0, 8, 0)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := img.RGBAAt(x, y)
			b = append(b, c.R, c.G, c.B)
		}
	}
	return b
}

// swappedProfile is an ICC v2 RGB matrix/TRC profile whose red and blue
// primaries are swapped: a pixel stored as pure red means pure blue. What
// it does to colours is unmistakable, so a test can tell a pipeline that
// converts through the profile from one that ignores or just drops it.
func swappedProfile() []byte {
	be := binary.BigEndian
	s15 := func(b []byte, vs ...float64) []byte {
		for _, v := range vs {
			b = be.AppendUint32(b, uint32(int32(v*65536+0.5)))
		}
		return b
	}
	xyz := func(x, y, z float64) []byte { return s15([]byte("XYZ \x00\x00\x00\x00"), x, y, z) }
	curv := append([]byte("curv\x00\x00\x00\x00\x00\x00\x00\x01\x02\x33"), 0, 0) // gamma 2.2, padded
	type tag struct {
		sig  string
		data []byte
	}
	tags := []tag{
		{"wtpt", xyz(0.9642, 1.0, 0.8249)},
		{"rXYZ", xyz(0.1431, 0.0606, 0.7141)}, // sRGB's blue primary (D50)
		{"gXYZ", xyz(0.3851, 0.7169, 0.0971)},
		{"bXYZ", xyz(0.4361, 0.2225, 0.0139)}, // sRGB's red primary (D50)
		{"rTRC", curv}, {"gTRC", curv}, {"bTRC", curv},
	}
	table := 4 + 12*len(tags)
	var body []byte
	offsets := make([]int, len(tags))
	for i, t := range tags {
		offsets[i] = 128 + table + len(body)
		body = append(body, t.data...)
	}
	size := 128 + table + len(body)

	p := be.AppendUint32(nil, uint32(size))
	p = append(p, 0, 0, 0, 0)          // CMM
	p = be.AppendUint32(p, 0x02100000) // version 2.1
	p = append(p, "mntrRGB XYZ "...)   // class, colour space, PCS
	p = append(p, make([]byte, 12)...) // date
	p = append(p, "acsp"...)           // magic
	p = append(p, make([]byte, 28)...) // platform .. rendering intent
	p = s15(p, 0.9642, 1.0, 0.8249)    // illuminant D50
	p = append(p, make([]byte, 128-len(p))...)
	p = be.AppendUint32(p, uint32(len(tags)))
	for i, t := range tags {
		p = append(p, t.sig...)
		p = be.AppendUint32(p, uint32(offsets[i]))
		p = be.AppendUint32(p, uint32(len(t.data)))
	}
	return append(p, body...)
}

// greyProfile is swappedProfile claiming to be for greyscale: not usable
// with an RGB image.
func greyProfile() []byte {
	p := swappedProfile()
	copy(p[16:20], "GRAY")
	return p
}

// withICC returns jpg with profile embedded in an APP2 ICC_PROFILE segment.
func withICC(jpg, profile []byte) []byte {
	payload := append([]byte("ICC_PROFILE\x00\x01\x01"), profile...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, 0xFF, 0xE2)
	out = binary.BigEndian.AppendUint16(out, uint16(len(payload)+2))
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}
