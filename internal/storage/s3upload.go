package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/tus/tusd/v2/pkg/handler"
)

// s3Upload is an s3store upload under Satchel's name. Beyond s3store, it
//
//   - answers the file ID from GetInfo (s3store's is "<id>+<multipart ID>");
//   - reads a multipart upload that vanished before it was completed (a
//     lifecycle rule, an operator) as gone, not complete;
//   - completes the multipart upload as soon as its last byte is stored,
//     whoever wrote it, so that the file is one object for every reader.
type s3Upload struct {
	handler.Upload // s3store's
	s              *s3Store
	id, mp         string
	// check: when its info says complete, tell a complete upload from a
	// vanished one (an upload with a row that this value did not create).
	check bool
	// done: this value completed the multipart upload.
	done bool
}

var (
	_ handler.TerminatableUpload     = (*s3Upload)(nil)
	_ handler.ConcatableUpload       = (*s3Upload)(nil)
	_ handler.LengthDeclarableUpload = (*s3Upload)(nil)
)

func (u *s3Upload) GetInfo(ctx context.Context) (handler.FileInfo, error) {
	info, err := u.Upload.GetInfo(ctx)
	if err != nil {
		return handler.FileInfo{}, err
	}
	info.ID = u.id
	if u.check && !u.done && info.Offset == info.Size {
		gone, err := u.vanished(ctx)
		if err != nil {
			return handler.FileInfo{}, fmt.Errorf("upload %s: %w", u.id, err)
		}
		if gone {
			return handler.FileInfo{}, handler.ErrNotFound
		}
		u.check = false
	}
	return info, nil
}

// vanished reports whether the multipart upload is gone without having
// become the file: s3store reads a missing multipart upload as complete,
// but then no object holds the bytes.
func (u *s3Upload) vanished(ctx context.Context) (bool, error) {
	if ok, err := u.s.head(ctx, u.s.key(u.id)); err != nil || ok {
		return false, err
	}
	return u.s.multipartGone(ctx, u.id, u.mp)
}

// multipartGone reports whether multipart upload mp of id is gone
// (completed or aborted).
func (s *s3Store) multipartGone(ctx context.Context, id, mp string) (bool, error) {
	_, err := s.api.ListParts(ctx, &s3.ListPartsInput{
		Bucket: aws.String(s.bucket), Key: aws.String(s.key(id)), UploadId: aws.String(mp), MaxParts: aws.Int32(1),
	})
	switch {
	case err == nil:
		return false, nil
	case noSuchUpload(err):
		return true, nil
	}
	return false, err
}

// WriteChunk writes through s3store, which returns once every part and the
// incomplete part of the chunk are stored; the last byte completes the
// upload.
func (u *s3Upload) WriteChunk(ctx context.Context, offset int64, src io.Reader) (int64, error) {
	n, err := u.Upload.WriteChunk(ctx, offset, src)
	if err != nil {
		return n, err
	}
	info, err := u.Upload.GetInfo(ctx)
	if err == nil && !info.SizeIsDeferred && info.Offset == info.Size {
		err = u.complete(ctx)
	}
	return n, err
}

// complete completes the multipart upload from the parts this value knows:
// right after this value wrote the last byte (a known length's last chunk
// always goes out as a part), and for a concatenation's copies.
func (u *s3Upload) complete(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx) // the bytes are stored: make them the file
	err := u.Upload.FinishUpload(ctx)
	if err != nil && noSuchUpload(err) {
		// Completed meanwhile (Exists, on another instance), if the
		// object is there.
		if ok, herr := u.s.head(ctx, u.s.key(u.id)); herr == nil && ok {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("complete upload %s: %w", u.id, err)
	}
	u.done = true
	return nil
}

// FinishUpload (tusd's, at the last byte) completes the upload unless
// WriteChunk did.
func (u *s3Upload) FinishUpload(ctx context.Context) error {
	if u.done {
		return nil
	}
	return u.settle(ctx)
}

// settle completes an upload whose bytes are all stored through a fresh
// read of its parts: the value at hand may be stale (s3store keeps the size
// of an incomplete part it has since sent), and an incomplete part (the
// tail of a deferred length, kept aside until the length was known) must
// first become the last part, which an empty write does.
func (u *s3Upload) settle(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	fresh, err := u.s.tusd.GetUpload(ctx, u.id+"+"+u.mp)
	if err != nil {
		return fmt.Errorf("complete upload %s: %w", u.id, err)
	}
	info, err := fresh.GetInfo(ctx)
	if err != nil {
		return fmt.Errorf("complete upload %s: %w", u.id, err)
	}
	if info.SizeIsDeferred || info.Offset != info.Size {
		return fmt.Errorf("complete upload %s: %d of %d bytes stored", u.id, info.Offset, info.Size)
	}
	if _, err := fresh.WriteChunk(ctx, info.Offset, strings.NewReader("")); err != nil {
		return fmt.Errorf("complete upload %s: send its incomplete part: %w", u.id, err)
	}
	u.Upload = fresh
	return u.complete(ctx)
}

// DeclareLength records the length in s3store's info; the caller writes
// (tusd) or settles (Store.DeclareLength) next.
func (u *s3Upload) DeclareLength(ctx context.Context, length int64) error {
	return u.s.tusd.AsLengthDeclarableUpload(u.Upload).DeclareLength(ctx, length)
}

// Terminate removes the upload's multipart upload and objects.
func (u *s3Upload) Terminate(ctx context.Context) error {
	return u.s.removeUpload(ctx, u.id, u.mp)
}

// declared settles an upload whose deferred length was just declared
// outside tusd (a one-shot upload of unknown length), if every byte is in.
func (s *s3Store) declared(ctx context.Context, up handler.Upload) error {
	u, ok := up.(*s3Upload)
	if !ok {
		return fmt.Errorf("declared: not an S3 upload: %T", up)
	}
	info, err := u.Upload.GetInfo(ctx)
	if err != nil {
		return err
	}
	if info.SizeIsDeferred || info.Offset != info.Size {
		return nil
	}
	return u.settle(ctx)
}

// exists reports whether id's file is there; an upload whose bytes are all
// stored but whose multipart upload was never completed (the process died
// between its last part and the completion) is completed first.
func (s *s3Store) exists(ctx context.Context, id string) (bool, error) {
	if ok, err := s.head(ctx, s.key(id)); err != nil || ok {
		return ok, err
	}
	up, err := s.GetUpload(ctx, id)
	if err != nil {
		if errors.Is(err, handler.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	u := up.(*s3Upload)
	if u.mp == completedID {
		return false, nil // no row, no object: bytes that are nobody's
	}
	info, err := u.GetInfo(ctx)
	if err != nil || info.SizeIsDeferred || info.Offset != info.Size {
		return false, err
	}
	if err := u.settle(ctx); err != nil {
		return false, err
	}
	return true, nil
}
