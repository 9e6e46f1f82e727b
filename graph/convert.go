package graph

// Conversions between GraphQL inputs and outputs and the use cases.

import (
	"strings"

	"satchel/graph/model"
	"satchel/internal/images"
	"satchel/internal/uploads"
	"satchel/models"
	"satchel/transforms"
)

// nonNil turns a nil slice into an empty one, for non-null list fields.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// partOf presents a multipart part.
func (r *Resolver) partOf(p *models.Part) *model.UploadPart {
	return &model.UploadPart{
		UploadPartIndex: p.Index,
		UploadURL:       r.Uploads.PartURL(p),
		Range:           &model.ByteRange{InclusiveStart: p.RangeStart, InclusiveEnd: p.RangeEnd},
	}
}

// metaOf validates optional file name, type and tags from GraphQL input.
func metaOf(name, mime *string, tags []model.TagInput) (uploads.Meta, error) {
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	return uploads.NewMeta(deref(name), deref(mime), tagsOf(tags))
}

// tagsOf converts tag inputs (searchable unless said otherwise).
func tagsOf(in []model.TagInput) []models.Tag {
	out := make([]models.Tag, 0, len(in))
	for _, t := range in {
		out = append(out, models.Tag{Name: t.Name, Searchable: t.Searchable == nil || *t.Searchable})
	}
	return out
}

// presetOf converts a TransformationInput (validation is the service's).
func presetOf(in model.TransformationInput) transforms.Preset {
	p := transforms.Preset{Name: in.Name, AutoRotate: true}
	if in.Width != nil {
		p.Width = *in.Width
	}
	if in.Height != nil {
		p.Height = *in.Height
	}
	if in.Fit != nil {
		p.Fit = transforms.Fit(strings.ToLower(string(*in.Fit)))
	}
	if in.Format != nil {
		p.Format = transforms.Format(strings.ToLower(string(*in.Format)))
	}
	if in.Quality != nil {
		p.Quality = *in.Quality
	}
	if in.StripMetadata != nil {
		p.StripMetadata = *in.StripMetadata
	}
	if in.AutoRotate != nil {
		p.AutoRotate = *in.AutoRotate
	}
	return p
}

// transformedOf presents a file's result for a preset, delivered at url.
func transformedOf(rd *images.Rendition, url string) *model.TransformedFile {
	out := &model.TransformedFile{Name: rd.Name, URL: url, Status: model.TransformationStatusPending}
	switch rd.Status {
	case images.StatusReady:
		out.Status = model.TransformationStatusReady
		out.Width, out.Height, out.Size, out.Mime = &rd.Width, &rd.Height, &rd.Size, &rd.Mime
	case images.StatusFailed:
		out.Status = model.TransformationStatusFailed
	}
	return out
}
