package uploads

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"satchel/internal/apperr"
	"satchel/internal/ids"
	"satchel/internal/storage"
	"satchel/models"
)

// Get returns the account's file.
func (s *Service) Get(ctx context.Context, accountID, id string) (*models.File, error) {
	if !ids.Valid(id) {
		return nil, ErrFileNotFound
	}
	f, err := models.GetFile(ctx, s.DB, accountID, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrFileNotFound
	}
	return f, err
}

// GetMany returns the account's files among ids, in the order of ids (nil
// where missing).
func (s *Service) GetMany(ctx context.Context, accountID string, fileIDs []string) ([]*models.File, error) {
	fs, err := models.GetFiles(ctx, s.DB, accountID, fileIDs)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*models.File, len(fs))
	for i := range fs {
		byID[fs[i].ID] = &fs[i]
	}
	out := make([]*models.File, len(fileIDs))
	for i, id := range fileIDs {
		out[i] = byID[id]
	}
	return out, nil
}

// ForDelivery returns a file by its ID alone: the 128-bit ID is the capability.
func (s *Service) ForDelivery(ctx context.Context, id string) (*models.File, storage.Object, error) {
	if !ids.Valid(id) {
		return nil, nil, ErrFileNotFound
	}
	f, err := models.GetFileAny(ctx, s.DB, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil, ErrFileNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	obj, err := s.Bytes.Open(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, ErrFileNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	return f, obj, nil
}

// MaxDeleteBatch bounds deleteFiles.
const MaxDeleteBatch = 1000

// Delete deletes the account's files among fileIDs: rows first, then bytes.
// IDs that are not the account's files come back in notFound.
func (s *Service) Delete(ctx context.Context, accountID string, fileIDs []string) (deleted, notFound []string, err error) {
	if len(fileIDs) > MaxDeleteBatch {
		return nil, nil, apperr.Newf(apperr.BadUserInput, "at most %d ids at once", MaxDeleteBatch)
	}
	valid := make([]string, 0, len(fileIDs))
	seen := map[string]bool{}
	for _, id := range fileIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		if ids.Valid(id) {
			valid = append(valid, id)
		}
	}
	err = s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		deleted, err = models.DeleteFiles(ctx, tx, accountID, valid)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("delete files: %w", err)
	}
	s.forgetUse(accountID)
	gone := map[string]bool{}
	for _, id := range deleted {
		gone[id] = true
		if err := s.Bytes.Delete(ctx, id); err != nil {
			s.Log.ErrorContext(ctx, "delete file bytes", "id", id, "err", err)
		}
	}
	deleted = deleted[:0]
	seen = map[string]bool{}
	for _, id := range fileIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		if gone[id] {
			deleted = append(deleted, id)
		} else {
			notFound = append(notFound, id)
		}
	}
	return deleted, notFound, nil
}
