package tus

import (
	"encoding/base64"
	"strings"

	"github.com/tus/tusd/v2/pkg/handler"

	"satchel/internal/apperr"
	"satchel/internal/uploads"
)

// maxMetadataKey bounds Upload-Metadata keys; longer ones are refused.
const maxMetadataKey = 64

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
// non-empty, unique key without spaces and an optional base64 value.
func checkMetadata(header string) error {
	if strings.TrimSpace(header) == "" {
		return nil
	}
	seen := map[string]bool{}
	for _, pair := range strings.Split(header, ",") {
		key, value, _ := strings.Cut(strings.TrimSpace(pair), " ")
		switch {
		case key == "":
			return apperr.New(apperr.BadUserInput, "Upload-Metadata has an empty key")
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
// filetype and tags (a JSON array). Unknown keys are dropped later.
func metaOf(md handler.MetaData) (uploads.Meta, error) {
	for k := range md {
		if len(k) > maxMetadataKey {
			return uploads.Meta{}, apperr.New(apperr.BadUserInput, "Upload-Metadata key too long")
		}
	}
	return uploads.ParseMeta(md["filename"], md["filetype"], md["tags"])
}
