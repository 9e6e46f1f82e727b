package main

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"time"

	"github.com/disintegration/imaging"
)

// imagingOnce decodes src, fits it into 256x256 with Lanczos and encodes a
// JPEG at q80 (Go has no WebP encoder).
func imagingOnce(src []byte) (time.Duration, error) {
	start := time.Now()
	img, err := imaging.Decode(bytes.NewReader(src))
	if err != nil {
		return 0, err
	}
	tn := imaging.Fit(img, thumbBox, thumbBox, imaging.Lanczos)
	var b bytes.Buffer
	if err := imaging.Encode(&b, tn, imaging.JPEG, imaging.JPEGQuality(jpegQuality)); err != nil {
		return 0, err
	}
	d := time.Since(start)
	c, err := jpeg.DecodeConfig(bytes.NewReader(b.Bytes()))
	if err != nil {
		return 0, err
	}
	if c.Width != wantW || c.Height != wantH {
		return 0, fmt.Errorf("imaging thumbnail is %dx%d, want %dx%d", c.Width, c.Height, wantW, wantH)
	}
	return d, nil
}
