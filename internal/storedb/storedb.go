// Package storedb keeps the byte store's bookkeeping in the database, for a
// store that instances share (S3): the store's own name for each unfinished
// upload, beside the upload's row, and the running SHA-256 of each
// unfinished upload, so that whichever instance receives its next bytes
// continues the digest. It implements storage.BackendIDs and
// storage.HashStates over models; app wires it in.
package storedb

import (
	"context"
	"errors"

	"github.com/uptrace/bun"

	"satchel/models"
)

// BackendIDs keeps the store's names of uploads on their rows.
type BackendIDs struct{ DB bun.IDB }

// BackendID returns the name recorded for upload id; row is false when id
// has no unfinished upload.
func (b BackendIDs) BackendID(ctx context.Context, id string) (backendID string, row bool, err error) {
	backendID, err = models.UploadBackendID(ctx, b.DB, id)
	if errors.Is(err, models.ErrNotFound) {
		return "", false, nil
	}
	return backendID, err == nil, err
}

// SetBackendID records it (nothing without a row).
func (b BackendIDs) SetBackendID(ctx context.Context, id, backendID string) error {
	return models.SetUploadBackendID(ctx, b.DB, id, backendID)
}

// Digests keeps the running digests of unfinished uploads in the database.
type Digests struct{ DB bun.IDB }

// Load returns upload id's digest state and the bytes it covers
// (models.ErrNotFound when there is none).
func (d Digests) Load(ctx context.Context, id string) (int64, []byte, error) {
	return models.GetUploadDigest(ctx, d.DB, id)
}

// Save records id's state after offset bytes.
func (d Digests) Save(ctx context.Context, id string, offset int64, state []byte) error {
	return models.SaveUploadDigest(ctx, d.DB, id, offset, state)
}

// Delete forgets id's state.
func (d Digests) Delete(ctx context.Context, id string) error {
	return models.DeleteUploadDigest(ctx, d.DB, id)
}
