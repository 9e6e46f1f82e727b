package images

import (
	"context"
	"errors"
	"fmt"
	"time"

	"satchel/models"
	"satchel/transforms"
)

// PresetOf converts a stored preset.
func PresetOf(t *models.Transformation) transforms.Preset {
	return transforms.Preset{
		Name: t.Name, Width: t.Width, Height: t.Height, Fit: transforms.Fit(t.Fit),
		Format: transforms.Format(t.Format), Quality: t.Quality,
		StripMetadata: t.StripMetadata, AutoRotate: t.AutoRotate,
	}
}

func now() int64 { return models.Micros(time.Now()) }

// List returns the account's presets.
func (s *Service) List(ctx context.Context, accountID string) ([]models.Transformation, error) {
	return models.ListTransformations(ctx, s.DB, accountID)
}

// Get returns one preset.
func (s *Service) Get(ctx context.Context, accountID, name string) (*models.Transformation, error) {
	t, err := models.GetTransformation(ctx, s.DB, accountID, name)
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrNoPreset
	}
	return t, err
}

func stored(accountID string, p transforms.Preset) *models.Transformation {
	at := now()
	return &models.Transformation{
		AccountID: accountID, Name: p.Name, Width: p.Width, Height: p.Height, Fit: string(p.Fit),
		Format: string(p.Format), Quality: p.Quality, StripMetadata: p.StripMetadata, AutoRotate: p.AutoRotate,
		Version: 1, CreatedAt: at, UpdatedAt: at,
	}
}

// Create adds a preset.
func (s *Service) Create(ctx context.Context, accountID string, p transforms.Preset) (*models.Transformation, error) {
	if err := p.Validate(); err != nil {
		return nil, clientError(err)
	}
	if _, err := models.GetTransformation(ctx, s.DB, accountID, p.Name); err == nil {
		return nil, ErrExists
	}
	t := stored(accountID, p)
	if err := models.InsertTransformation(ctx, s.DB, t); err != nil {
		if _, gerr := models.GetTransformation(ctx, s.DB, accountID, p.Name); gerr == nil {
			return nil, ErrExists
		}
		return nil, fmt.Errorf("create transformation: %w", err)
	}
	return t, nil
}

// Update changes a preset (found by name): its version grows, so every
// result rendered before is invalid at once; they are deleted behind.
func (s *Service) Update(ctx context.Context, accountID string, p transforms.Preset) (*models.Transformation, error) {
	if err := p.Validate(); err != nil {
		return nil, clientError(err)
	}
	t := stored(accountID, p)
	ok, err := models.UpdateTransformation(ctx, s.DB, t)
	if err != nil {
		return nil, fmt.Errorf("update transformation: %w", err)
	}
	if !ok {
		return nil, ErrNoPreset
	}
	if err := s.dropResults(ctx, accountID, p.Name); err != nil {
		return nil, err
	}
	return s.Get(ctx, accountID, p.Name)
}

// ClearCache invalidates a preset's results without changing it.
func (s *Service) ClearCache(ctx context.Context, accountID, name string) (*models.Transformation, error) {
	if _, err := s.Get(ctx, accountID, name); err != nil {
		return nil, err
	}
	t, err := models.BumpTransformation(ctx, s.DB, accountID, name, now())
	if err != nil {
		return nil, fmt.Errorf("clear transformation cache: %w", err)
	}
	return t, s.dropResults(ctx, accountID, name)
}

// Delete removes a preset and its results.
func (s *Service) Delete(ctx context.Context, accountID, name string) error {
	ok, err := models.DeleteTransformation(ctx, s.DB, accountID, name)
	if err != nil {
		return fmt.Errorf("delete transformation: %w", err)
	}
	if !ok {
		return ErrNoPreset
	}
	return s.dropResults(ctx, accountID, name)
}

// dropResults forgets every render of a preset: job rows now, stored
// results after (they are unreachable already: their key has an old version).
func (s *Service) dropResults(ctx context.Context, accountID, name string) error {
	fileIDs, err := models.DeleteJobsOfPreset(ctx, s.DB, accountID, name)
	if err != nil {
		return fmt.Errorf("drop results: %w", err)
	}
	go func() {
		for _, id := range fileIDs {
			if err := s.Store.DeleteDerived(context.Background(), id, name+"-v"); err != nil {
				s.Log.WarnContext(ctx, "drop results", "file", id, "preset", name, "err", err)
			}
		}
	}()
	return nil
}
