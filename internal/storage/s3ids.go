package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/tus/tusd/v2/pkg/handler"

	"satchel/internal/ids"
)

// BackendIDs keeps s3store's name of each unfinished upload beside the
// upload's row. s3store names an upload "<id>+<multipart upload ID>"; the
// upload's URL names the file ID alone, so the store looks the rest up.
type BackendIDs interface {
	// BackendID returns the name recorded for upload id ("" when none
	// is); row is false when id has no unfinished upload (a finished
	// file, or no upload at all).
	BackendID(ctx context.Context, id string) (backendID string, row bool, err error)
	// SetBackendID records it; without a row there is nothing to record,
	// and no error.
	SetBackendID(ctx context.Context, id, backendID string) error
}

// completedID stands for the multipart upload of an upload without a row:
// a finished file's, completed long ago. s3store reads a multipart upload
// it cannot find as a complete upload, which for those is the truth: tus
// HEAD of a finished upload answers its offset.
const completedID = "completed"

func splitBackendID(bid string) (id, mp string) {
	i := strings.LastIndexByte(bid, '+')
	if i < 0 {
		return "", ""
	}
	return bid[:i], bid[i+1:]
}

// NewUpload creates the upload under info.ID and records s3store's name
// for it.
func (s *s3Store) NewUpload(ctx context.Context, info handler.FileInfo) (handler.Upload, error) {
	id := info.ID
	if !ids.Valid(id) {
		return nil, fmt.Errorf("new upload: bad id %q", id)
	}
	if err := s.discard(ctx, id); err != nil {
		return nil, fmt.Errorf("new upload %s: %w", id, err)
	}
	up, err := s.tusd.NewUpload(ctx, info)
	if err != nil {
		return nil, err
	}
	got, err := up.GetInfo(ctx)
	if err != nil {
		return nil, err
	}
	_, mp := splitBackendID(got.ID)
	if err := s.ids.SetBackendID(ctx, id, got.ID); err != nil {
		_ = s.removeUpload(context.WithoutCancel(ctx), id, mp)
		return nil, fmt.Errorf("new upload %s: record %s: %w", id, got.ID, err)
	}
	return &s3Upload{Upload: up, s: s, id: id, mp: mp}, nil
}

// discard clears what an earlier upload under id left (a multipart
// session's part sent again whole is created again): its multipart upload,
// incomplete part and file, from which s3store would otherwise continue.
func (s *s3Store) discard(ctx context.Context, id string) error {
	bid, row, err := s.ids.BackendID(ctx, id)
	if err != nil || !row || bid == "" {
		// Without a row, or without a name on it, id is new: nothing was
		// created under it (a creation that failed before recording its
		// name took back what it had made).
		return err
	}
	_, mp := splitBackendID(bid)
	if err := s.removeUpload(ctx, id, mp); err != nil {
		return err
	}
	// The upload created again starts empty: the old one's digest goes.
	return s.states.Delete(ctx, id)
}

// GetUpload returns upload id. Without a row, id is a finished file (or
// nothing): its upload reads as complete when its info object is there.
// With one, a multipart upload that vanished before it was completed
// answers handler.ErrNotFound, here as from GetInfo.
func (s *s3Store) GetUpload(ctx context.Context, id string) (handler.Upload, error) {
	if !ids.Valid(id) {
		return nil, handler.ErrNotFound
	}
	bid, row, err := s.ids.BackendID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("upload %s: %w", id, err)
	}
	mp := completedID
	if row {
		if bid == "" {
			if bid, _, err = s.backendID(ctx, id); err != nil {
				return nil, err
			}
		}
		var own string
		if own, mp = splitBackendID(bid); own != id || mp == "" {
			return nil, fmt.Errorf("upload %s: its store name %q is not its own", id, bid)
		}
	}
	inner, err := s.tusd.GetUpload(ctx, id+"+"+mp)
	if err != nil {
		return nil, err
	}
	u := &s3Upload{Upload: inner, s: s, id: id, mp: mp, check: row}
	if _, err := u.GetInfo(ctx); err != nil {
		return nil, err
	}
	return u, nil
}

// backendID returns s3store's name for id: recorded on its row, else read
// from its info object (and then recorded, for an upload created before
// its row: a multipart session's part). handler.ErrNotFound: neither
// names one.
func (s *s3Store) backendID(ctx context.Context, id string) (bid string, row bool, err error) {
	bid, row, err = s.ids.BackendID(ctx, id)
	if err != nil || bid != "" {
		return bid, row, err
	}
	if bid, err = s.readBackendID(ctx, id); err != nil {
		return "", row, err
	}
	if row {
		err = s.ids.SetBackendID(ctx, id, bid)
	}
	return bid, row, err
}

// readBackendID reads s3store's name for id from its info object.
func (s *s3Store) readBackendID(ctx context.Context, id string) (string, error) {
	out, err := s.api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.key(id + ".info"))})
	if noSuchKey(err) {
		return "", handler.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("upload %s: read its info: %w", id, err)
	}
	defer out.Body.Close()
	var info handler.FileInfo
	if err := json.NewDecoder(out.Body).Decode(&info); err != nil {
		return "", fmt.Errorf("upload %s: read its info: %w", id, err)
	}
	return info.ID, nil
}

// The extensions act on the store's own uploads.

func (s *s3Store) AsTerminatableUpload(u handler.Upload) handler.TerminatableUpload {
	return u.(*s3Upload)
}

func (s *s3Store) AsConcatableUpload(u handler.Upload) handler.ConcatableUpload {
	return u.(*s3Upload)
}

func (s *s3Store) AsLengthDeclarableUpload(u handler.Upload) handler.LengthDeclarableUpload {
	return u.(*s3Upload)
}
