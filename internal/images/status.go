package images

import (
	"context"

	"satchel/models"
)

// Status is where a file's result for a preset stands.
type Status string

// Statuses of a result, for the preset's current version.
const (
	// StatusPending: not rendered yet (or only for an older version of
	// the preset). Asking for it renders it.
	StatusPending Status = "pending"
	StatusReady   Status = "ready"
	StatusFailed  Status = "failed"
)

// Rendition is a file's result for one of its account's presets, as of
// the preset's current version.
type Rendition struct {
	Name string
	// Version is the preset's: its results are delivered by version, so
	// that a changed preset is a new URL.
	Version int
	Status  Status
	// Of a ready result.
	Width, Height int
	Size          int64
	Mime          string
}

// RenditionKey names a file's result for a preset.
type RenditionKey struct{ AccountID, FileID, Name string }

// Renditions returns where each key's result stands: nil for a key whose
// account has no such preset. However many keys there are, it makes one
// query per account for its presets and one for the jobs of the files
// whose preset exists, so a page of files asking for their thumbnails
// costs two queries, not two per file. It is a dataloader's batch
// function.
func (s *Service) Renditions(ctx context.Context, keys []RenditionKey) (map[RenditionKey]*Rendition, error) {
	presets := map[string]map[string]models.Transformation{} // by account, by name
	var fileIDs []string
	asked := map[string]bool{}
	for _, k := range keys {
		byName, ok := presets[k.AccountID]
		if !ok {
			ts, err := models.ListTransformations(ctx, s.DB, k.AccountID)
			if err != nil {
				return nil, err
			}
			byName = make(map[string]models.Transformation, len(ts))
			for _, t := range ts {
				byName[t.Name] = t
			}
			presets[k.AccountID] = byName
		}
		if _, ok := byName[k.Name]; ok && !asked[k.FileID] {
			asked[k.FileID] = true
			fileIDs = append(fileIDs, k.FileID)
		}
	}
	js, err := models.GetJobs(ctx, s.DB, fileIDs) // no query without files
	if err != nil {
		return nil, err
	}
	jobs := make(map[string][]models.TransformJob, len(fileIDs))
	for _, j := range js {
		jobs[j.FileID] = append(jobs[j.FileID], j)
	}
	out := make(map[RenditionKey]*Rendition, len(keys))
	for _, k := range keys {
		out[k] = nil
		if p, ok := presets[k.AccountID][k.Name]; ok {
			out[k] = renditionOf(&p, jobs[k.FileID])
		}
	}
	return out, nil
}

// renditionOf is where the result of preset p stands among a file's jobs:
// pending until the job of p's current version is ready or has failed.
func renditionOf(p *models.Transformation, jobs []models.TransformJob) *Rendition {
	r := &Rendition{Name: p.Name, Version: p.Version, Status: StatusPending}
	for _, j := range jobs {
		if j.Name != p.Name || j.Version != p.Version {
			continue
		}
		switch j.Status {
		case models.JobReady:
			r.Status = StatusReady
			r.Width, r.Height, r.Size, r.Mime = j.Width, j.Height, j.Size, j.Mime
		case models.JobFailed:
			r.Status = StatusFailed
		}
	}
	return r
}
