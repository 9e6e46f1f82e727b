package tus

import (
	"github.com/tus/tusd/v2/pkg/handler"

	"satchel/internal/apperr"
	"satchel/internal/uploads"
)

// maxMetadataKey bounds Upload-Metadata keys; longer ones are refused.
const maxMetadataKey = 64

// ParseMetadata reads a raw Upload-Metadata header value into Satchel's
// validated metadata, the way the creation hook does.
func ParseMetadata(header string) (uploads.Meta, error) {
	return metaOf(handler.ParseMetadataHeader(header))
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
