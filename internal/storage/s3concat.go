package storage

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/tus/tusd/v2/pkg/handler"
	"golang.org/x/sync/errgroup"
)

// concatCopies bounds the part copies under way for one concatenation.
const concatCopies = 8

// ConcatUploads makes the upload the partial uploads' bytes, in order. When
// every part but the last is at least S3's minimum part (a multipart
// session's 5 MiB parts are), S3 copies them into the upload's multipart
// upload (UploadPartCopy) and nothing is downloaded; otherwise s3store
// downloads the parts and uploads the whole.
func (u *s3Upload) ConcatUploads(ctx context.Context, partials []handler.Upload) error {
	inner := make([]handler.Upload, len(partials))
	var keys []string // the non-empty parts' objects
	var sizes []int64
	for i, p := range partials {
		pu, ok := p.(*s3Upload)
		if !ok {
			return fmt.Errorf("concat %s: not an S3 upload: %T", u.id, p)
		}
		inner[i] = pu.Upload
		info, err := pu.GetInfo(ctx)
		if err != nil {
			return fmt.Errorf("concat %s: part %s: %w", u.id, pu.id, err)
		}
		if info.Size > 0 {
			keys = append(keys, u.s.key(pu.id))
			sizes = append(sizes, info.Size)
		}
	}
	// S3 takes parts under its minimum only last.
	copyable := len(keys) <= 10000
	for _, size := range sizes[:max(len(sizes)-1, 0)] {
		copyable = copyable && size >= minPartSize
	}
	if !copyable {
		if err := u.s.tusd.AsConcatableUpload(u.Upload).ConcatUploads(ctx, inner); err != nil {
			return fmt.Errorf("concat %s: %w", u.id, err)
		}
		u.done = true
		return nil
	}
	if len(keys) == 0 {
		return u.complete(ctx) // an empty file
	}
	etags := make([]*string, len(keys))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concatCopies)
	for i, key := range keys {
		g.Go(func() error {
			res, err := u.s.api.UploadPartCopy(gctx, &s3.UploadPartCopyInput{
				Bucket: aws.String(u.s.bucket), Key: aws.String(u.s.key(u.id)), UploadId: aws.String(u.mp),
				PartNumber: aws.Int32(int32(i + 1)), CopySource: aws.String(u.s.bucket + "/" + escapeKey(key)),
			})
			if err != nil {
				return fmt.Errorf("copy %s: %w", key, err)
			}
			if res.CopyPartResult == nil {
				return fmt.Errorf("copy %s: no ETag", key)
			}
			etags[i] = res.CopyPartResult.ETag
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("concat %s: %w", u.id, err)
	}
	parts := make([]types.CompletedPart, len(keys))
	for i := range keys {
		parts[i] = types.CompletedPart{ETag: etags[i], PartNumber: aws.Int32(int32(i + 1))}
	}
	_, err := u.s.api.CompleteMultipartUpload(context.WithoutCancel(ctx), &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(u.s.bucket), Key: aws.String(u.s.key(u.id)), UploadId: aws.String(u.mp),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return fmt.Errorf("concat %s: %w", u.id, err)
	}
	u.done = true
	return nil
}

// escapeKey escapes a key for CopySource, keeping its slashes.
func escapeKey(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}
