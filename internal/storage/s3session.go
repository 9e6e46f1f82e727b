package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// A session on S3 is one multipart upload of the object <id>, begun with
// the session and named on the session's row like an upload's
// ("<id>+<multipart upload ID>", BackendIDs). Part i of the session is S3
// part i+1: a part sent whole streams into it (UploadPart), a part sent as
// a tus upload is copied into it from that upload's object
// (UploadPartCopy), and completing the session completes the multipart
// upload, which S3 does in place. Sessions' parts are 5 MiB, S3's minimum,
// but the last. An empty file has no multipart upload: its empty object is
// put when the session begins.

// emptySession stands for the multipart upload of an empty session.
const emptySession = "empty"

func (s *s3Store) beginSession(ctx context.Context, id string, size int64, contentType string) error {
	bid, row, err := s.ids.BackendID(ctx, id)
	if err != nil {
		return err
	}
	if !row {
		return errors.New("the session has no row")
	}
	if bid != "" {
		return nil // begun
	}
	var ct *string
	if contentType != "" {
		ct = aws.String(contentType)
	}
	mp := emptySession
	if size == 0 {
		_, err = s.api.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(s.bucket), Key: aws.String(s.key(id)), Body: bytes.NewReader(nil),
			ContentLength: aws.Int64(0), ContentType: ct,
		})
	} else {
		var out *s3.CreateMultipartUploadOutput
		out, err = s.api.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
			Bucket: aws.String(s.bucket), Key: aws.String(s.key(id)), ContentType: ct,
		})
		if err == nil {
			mp = aws.ToString(out.UploadId)
		}
	}
	if err != nil {
		return err
	}
	if err := s.ids.SetBackendID(ctx, id, id+"+"+mp); err != nil {
		_ = s.abortUpload(context.WithoutCancel(ctx), id, mp)
		return fmt.Errorf("record %s: %w", mp, err)
	}
	return nil
}

// sessionUpload returns the multipart upload of session id.
func (s *s3Store) sessionUpload(ctx context.Context, id string) (string, error) {
	bid, row, err := s.ids.BackendID(ctx, id)
	if err != nil {
		return "", err
	}
	own, mp := splitBackendID(bid)
	if !row || own != id || mp == "" {
		return "", fmt.Errorf("session %s (%q): %w", id, bid, ErrNotFound)
	}
	return mp, nil
}

// writePart streams src into the part's S3 part. The body is signed as
// UNSIGNED-PAYLOAD (it is read once, as it arrives: SigV4 would need its
// SHA-256 before the first byte), sent with its length, and never retried
// by the SDK (it cannot be read twice: the client sends the part again).
func (s *s3Store) writePart(ctx context.Context, id string, p SessionPart, src io.Reader) (string, error) {
	mp, err := s.sessionUpload(ctx, id)
	if err != nil {
		return "", err
	}
	if mp == emptySession || p.Size == 0 {
		_, err := io.Copy(io.Discard, src)
		return "", err
	}
	out, err := s.api.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: aws.String(s.bucket), Key: aws.String(s.key(id)), UploadId: aws.String(mp),
		PartNumber: aws.Int32(int32(p.Index + 1)), Body: onlyReader{src}, ContentLength: aws.Int64(p.Size),
	}, s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware), func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ETag), nil
}

// onlyReader hides everything but Read (the hashing reader's WriteTo), so
// that the SDK treats the body as the stream it is.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// copyPart has S3 copy the upload's object into the part's S3 part.
func (s *s3Store) copyPart(ctx context.Context, id string, p SessionPart, from string) (string, error) {
	mp, err := s.sessionUpload(ctx, id)
	if err != nil {
		return "", err
	}
	if mp == emptySession || p.Size == 0 {
		return "", nil
	}
	out, err := s.api.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
		Bucket: aws.String(s.bucket), Key: aws.String(s.key(id)), UploadId: aws.String(mp),
		PartNumber: aws.Int32(int32(p.Index + 1)), CopySource: aws.String(s.bucket + "/" + escapeKey(s.key(from))),
	})
	if err != nil {
		return "", err
	}
	if out.CopyPartResult == nil || out.CopyPartResult.ETag == nil {
		return "", errors.New("no ETag")
	}
	return aws.ToString(out.CopyPartResult.ETag), nil
}

// completeSession completes the multipart upload with the parts' tags; one
// completed already (by another instance, or before a crash) is fine when
// its object is there.
func (s *s3Store) completeSession(ctx context.Context, id string, _ int64, parts []SessionPart) error {
	mp, err := s.sessionUpload(ctx, id)
	if err != nil {
		return err
	}
	if mp == emptySession {
		return nil
	}
	done := make([]types.CompletedPart, len(parts))
	for i, p := range parts {
		if p.Tag == "" {
			return fmt.Errorf("part %d has no ETag", p.Index)
		}
		done[i] = types.CompletedPart{ETag: aws.String(p.Tag), PartNumber: aws.Int32(int32(p.Index + 1))}
	}
	ctx = context.WithoutCancel(ctx) // the parts are stored: make them the file
	_, err = s.api.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(s.key(id)), UploadId: aws.String(mp),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
	})
	if err != nil && noSuchUpload(err) {
		if ok, herr := s.head(ctx, s.key(id)); herr == nil && ok {
			return nil
		}
	}
	return err
}

// abortSession aborts the session's multipart upload (or deletes an empty
// session's object). A session with no row is gone already.
func (s *s3Store) abortSession(ctx context.Context, id string) error {
	bid, row, err := s.ids.BackendID(ctx, id)
	if err != nil || !row || bid == "" {
		return err
	}
	_, mp := splitBackendID(bid)
	return s.abortUpload(ctx, id, mp)
}

func (s *s3Store) abortUpload(ctx context.Context, id, mp string) error {
	if mp == emptySession {
		return s.deleteKeys(ctx, []string{s.key(id)})
	}
	_, err := s.api.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(s.key(id)), UploadId: aws.String(mp),
	})
	if err != nil && !noSuchUpload(err) {
		return err
	}
	return nil
}

// readsParts: S3's parts cannot be read before the multipart upload
// completes.
func (s *s3Store) readsParts() bool { return false }
