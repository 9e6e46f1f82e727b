package storage

import (
	"bytes"
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Derived results live under derived/<fileID>/<key> (after the prefix).

func (s *s3Store) derivedKey(fileID, key string) string {
	return s.key("derived/" + fileID + "/" + key)
}

// putDerived puts the object whole: S3 shows a reader all of it or none.
func (s *s3Store) putDerived(ctx context.Context, fileID, key string, data []byte) error {
	_, err := s.api.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(s.derivedKey(fileID, key)),
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		return fmt.Errorf("put derived %s/%s: %w", fileID, key, err)
	}
	return nil
}

func (s *s3Store) openDerived(ctx context.Context, fileID, key string) (Object, error) {
	return s.openKey(ctx, s.derivedKey(fileID, key))
}

// deleteDerived deletes the file's derived objects whose key starts with
// prefix: listed, then deleted in batches.
func (s *s3Store) deleteDerived(ctx context.Context, fileID, prefix string) error {
	keys, err := s.list(ctx, s.derivedKey(fileID, prefix))
	if err != nil {
		return err
	}
	return s.deleteKeys(ctx, keys)
}
