package tus

import (
	"encoding/base64"
	"strings"

	"github.com/tus/tusd/v2/pkg/handler"

	"satchel/internal/apperr"
	"satchel/internal/uploads"
)

// Bounds on Upload-Metadata, which is kept whole and returned on HEAD: a
// header over them is refused. The largest metadata Satchel itself reads
// (a 255-byte filename and filetype, 50 tags of 128 bytes) is about 11 KiB
// encoded, which leaves room for what clients add (Uppy: name, type,
// relativePath).
const (
	maxMetadataKey   = 64
	maxMetadataBytes = 16 << 10
	maxMetadataPairs = 64
)

// ParseMetadata reads a raw Upload-Metadata header value into Satchel's
// validated metadata, the way the creation hook does.
func ParseMetadata(header string) (uploads.Meta, error) {
	if err := checkMetadata(header); err != nil {
		return uploads.Meta{}, err
	}
	return metaOf(handler.ParseMetadataHeader(header))
}

// checkMetadata enforces the Upload-Metadata grammar, which tusd parses
// leniently (it silently drops malformed pairs): comma-separated pairs of a
// non-empty, unique key without spaces and an optional base64 value; and
// its bounds.
func checkMetadata(header string) error {
	if strings.TrimSpace(header) == "" {
		return nil
	}
	if len(header) > maxMetadataBytes {
		return apperr.Newf(apperr.BadUserInput, "Upload-Metadata is longer than %d bytes", maxMetadataBytes)
	}
	pairs := strings.Split(header, ",")
	if len(pairs) > maxMetadataPairs {
		return apperr.Newf(apperr.BadUserInput, "Upload-Metadata has more than %d pairs", maxMetadataPairs)
	}
	seen := map[string]bool{}
	for _, pair := range pairs {
		key, value, _ := strings.Cut(strings.TrimSpace(pair), " ")
		switch {
		case key == "":
			return apperr.New(apperr.BadUserInput, "Upload-Metadata has an empty key")
		case len(key) > maxMetadataKey:
			return apperr.Newf(apperr.BadUserInput, "Upload-Metadata keys are at most %d bytes", maxMetadataKey)
		case strings.Contains(value, " "):
			return apperr.New(apperr.BadUserInput, `Upload-Metadata pairs are "key base64value"`)
		case seen[key]:
			return apperr.New(apperr.BadUserInput, "Upload-Metadata repeats a key")
		}
		seen[key] = true
		if _, err := base64.StdEncoding.DecodeString(value); err != nil {
			return apperr.New(apperr.BadUserInput, "Upload-Metadata values must be base64")
		}
	}
	return nil
}

// metaOf validates the metadata keys Satchel understands: filename,
// filetype and tags (a JSON array). Other keys are kept as they came, for
// HEAD (uploadId is checked where it is used).
func metaOf(md handler.MetaData) (uploads.Meta, error) {
	return uploads.ParseMeta(md["filename"], md["filetype"], md["tags"])
}
