package storage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/s3store"
)

// The S3 store is tusd's s3store in a bucket, under Satchel's wrapper
// (s3ids.go, s3upload.go). The layout, under the configured prefix:
//
//	<id>                   the file: the upload's completed multipart upload
//	<id>.info, <id>.part   s3store's upload info and incomplete part
//	derived/<id>/<key>     derived results (s3derived.go)
//
// Unfinished uploads' names in s3store ("<id>+<multipart ID>") are kept on
// their rows (BackendIDs), their running digests in the database
// (HashStates), and each process buffers parts in a directory of its own
// (s3temp.go).

// s3API is what the store uses of an S3 client: s3store's calls and its own.
type s3API interface {
	s3store.S3API
	HeadBucket(ctx context.Context, in *s3.HeadBucketInput, opts ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

const (
	// startTimeout bounds the bucket check at start; pingTimeout the
	// readiness check.
	startTimeout = 15 * time.Second
	pingTimeout  = 2 * time.Second
	// defaultPartSize and minPartSize are the parts s3store buffers and
	// sends (S3 takes no smaller part but the last).
	defaultPartSize = 16 << 20
	minPartSize     = 5 << 20
	// maxBufferedParts bounds the parts an upload being written keeps on
	// disk, waiting for their turn to be sent.
	maxBufferedParts = 4
)

// s3Store is the S3 backend and the tusd DataStore under the hashing store.
type s3Store struct {
	api    s3API
	bucket string
	prefix string // "" or "<prefix>/"
	tusd   s3store.S3Store
	ids    BackendIDs
	states HashStates // the running digests (dropped with an upload created again)
}

var (
	_ backend                         = (*s3Store)(nil)
	_ handler.DataStore               = (*s3Store)(nil)
	_ handler.TerminaterDataStore     = (*s3Store)(nil)
	_ handler.ConcaterDataStore       = (*s3Store)(nil)
	_ handler.LengthDeferrerDataStore = (*s3Store)(nil)
)

// newS3 opens the bucket cfg names, after checking that it can be reached.
func newS3(cfg S3Config, locker handler.Locker) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("storage s3: no bucket")
	}
	if cfg.IDs == nil || cfg.States == nil {
		return nil, errors.New("storage s3: the upload IDs and digest states must be given")
	}
	partSize := cfg.PartSize
	if partSize == 0 {
		partSize = defaultPartSize
	}
	if partSize < minPartSize {
		return nil, fmt.Errorf("storage s3: part size %d is under S3's minimum of %d", partSize, minPartSize)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	api := cfg.api
	if api == nil {
		c, err := newS3Client(ctx, cfg)
		if err != nil {
			return nil, err
		}
		api = c
	}
	if _, err := api.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(cfg.Bucket)}); err != nil {
		return nil, bucketError(cfg, err)
	}
	tmp, err := processTempDir(cfg.TempDir)
	if err != nil {
		return nil, fmt.Errorf("storage s3: %w", err)
	}
	ts := s3store.New(cfg.Bucket, bareObjects{api})
	ts.ObjectPrefix = cfg.Prefix
	ts.MinPartSize = minPartSize
	ts.PreferredPartSize = partSize
	ts.MaxBufferedParts = maxBufferedParts
	ts.TemporaryDirectory = tmp
	st := &s3Store{api: api, bucket: cfg.Bucket, tusd: ts, ids: cfg.IDs, states: cfg.States}
	if cfg.Prefix != "" {
		st.prefix = strings.TrimSuffix(cfg.Prefix, "/") + "/"
	}
	hs := &hashingStore{inner: st, states: cfg.States, shared: true, spool: tmp}
	c := handler.NewStoreComposer()
	c.UseCore(hs)
	c.UseTerminater(hs)
	c.UseConcater(hs)
	c.UseLengthDeferrer(hs)
	c.UseLocker(locker)
	return &Store{hashing: hs, composer: c, bytes: st, sessions: newSessionHashers(cfg.States)}, nil
}

// bareObjects is the client s3store gets: it creates objects without the
// upload's metadata. s3store would send each Upload-Metadata pair as an S3
// user-metadata header, which a key like "café" is not allowed to be (and
// S3 caps all of them at 2 KB); Satchel keeps the metadata in the upload's
// info object and its rows, and serves files with its own headers.
type bareObjects struct{ s3API }

func (b bareObjects) CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	bare := *in
	bare.Metadata, bare.ContentType = nil, nil
	return b.s3API.CreateMultipartUpload(ctx, &bare, opts...)
}

// newS3Client builds the S3 client: credentials and settings from the AWS
// environment; path-style addressing with an endpoint; checksums only where
// S3 requires them (some S3-compatible stores refuse the SDK's defaults).
func newS3Client(ctx context.Context, cfg S3Config) (*s3.Client, error) {
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		awsconfig.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
	if cfg.Region != "" {
		opts = append(opts, awsconfig.WithRegion(cfg.Region))
	}
	ac, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("storage s3: AWS configuration: %w", err)
	}
	return s3.NewFromConfig(ac, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
			o.UsePathStyle = true
		}
	}), nil
}

// bucketError says why the bucket could not be reached at start.
func bucketError(cfg S3Config, err error) error {
	where := "s3://" + cfg.Bucket
	if cfg.Endpoint != "" {
		where += " at " + cfg.Endpoint
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusNotFound:
			return fmt.Errorf("storage %s: no such bucket (create it first): %w", where, err)
		case http.StatusForbidden, http.StatusUnauthorized:
			return fmt.Errorf("storage %s: access denied (check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or the profile): %w", where, err)
		}
	}
	return fmt.Errorf("storage %s: the bucket cannot be reached: %w", where, err)
}

// key is name's key under the prefix.
func (s *s3Store) key(name string) string { return s.prefix + name }

func (s *s3Store) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if _, err := s.api.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)}); err != nil {
		return fmt.Errorf("storage s3://%s: %w", s.bucket, err)
	}
	return nil
}

// head reports whether the object at key exists.
func (s *s3Store) head(ctx context.Context, key string) (bool, error) {
	_, err := s.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	switch {
	case err == nil:
		return true, nil
	case noSuchKey(err):
		return false, nil
	}
	return false, err
}

// remove deletes an upload's file, s3store's objects, an unfinished
// multipart upload and the derived results.
func (s *s3Store) remove(ctx context.Context, id string) error {
	bid, _, err := s.backendID(ctx, id)
	if err != nil && !errors.Is(err, handler.ErrNotFound) {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	_, mp := splitBackendID(bid)
	derived, err := s.list(ctx, s.derivedKey(id, ""))
	if err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	return s.removeUpload(ctx, id, mp, derived...)
}

// removeUpload aborts multipart upload mp of id (none for "" and for
// completedID) and deletes the upload's objects and keys: the multipart
// upload first, while the info object still names it.
func (s *s3Store) removeUpload(ctx context.Context, id, mp string, keys ...string) error {
	if mp != "" && mp != completedID {
		_, err := s.api.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket: aws.String(s.bucket), Key: aws.String(s.key(id)), UploadId: aws.String(mp),
		})
		if err != nil && !noSuchUpload(err) {
			return fmt.Errorf("delete %s: abort its multipart upload: %w", id, err)
		}
	}
	keys = append(keys, s.key(id), s.key(id+".info"), s.key(id+".part"))
	if err := s.deleteKeys(ctx, keys); err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	return nil
}

// deleteKeys deletes keys, a thousand (S3's most) per request; missing
// ones are fine.
func (s *s3Store) deleteKeys(ctx context.Context, keys []string) error {
	for batch := range slices.Chunk(keys, 1000) {
		objs := make([]types.ObjectIdentifier, len(batch))
		for i, k := range batch {
			objs[i] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		res, err := s.api.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(s.bucket), Delete: &types.Delete{Objects: objs, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return err
		}
		for _, e := range res.Errors {
			if aws.ToString(e.Code) != "NoSuchKey" {
				return fmt.Errorf("delete %s: %s: %s", aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
			}
		}
	}
	return nil
}

// list returns the keys that start with prefix.
func (s *s3Store) list(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.api, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

// errorCode is an S3 error's code ("" for other errors).
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// noSuchKey: the object is not there (GET answers NoSuchKey, HEAD a bare
// 404).
func noSuchKey(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	return errors.As(err, &nsk) || errors.As(err, &nf) || slices.Contains([]string{"NoSuchKey", "NotFound"}, errorCode(err))
}

// noSuchUpload: the multipart upload is not there (completed or aborted).
// The SDK does not always type the error, and some S3-compatible stores
// answer NoSuchKey.
func noSuchUpload(err error) bool {
	var nsu *types.NoSuchUpload
	return errors.As(err, &nsu) || slices.Contains([]string{"NoSuchUpload", "NoSuchKey"}, errorCode(err))
}
