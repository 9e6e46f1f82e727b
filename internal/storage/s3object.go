package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// firstWindow is the first range an object reader asks for; each next one
// is twice the last. A reader that wants the first bytes only (the type
// sniffed at finish) then costs little, and one that reads the whole file
// costs about log2(size/firstWindow) requests.
const firstWindow = 256 << 10

// s3Object reads an object for http.ServeContent: Seek only moves the
// offset; Read asks S3 for a range from there when it has none open there.
type s3Object struct {
	ctx  context.Context
	s    *s3Store
	key  string
	size int64
	off  int64 // where the next Read reads

	body     io.ReadCloser // the open range, if any
	pos, end int64         // where body is, where its range ends
	window   int64
}

var _ Object = (*s3Object)(nil)

func (s *s3Store) open(ctx context.Context, id string) (Object, error) {
	return s.openKey(ctx, s.key(id))
}

// openKey opens key, reading its size from the answer to its first range
// (nothing more for an empty object).
func (s *s3Store) openKey(ctx context.Context, key string) (Object, error) {
	o := &s3Object{ctx: ctx, s: s, key: key, size: -1, window: firstWindow}
	err := o.fetch(0)
	if errorCode(err) == "InvalidRange" { // an empty object has no first byte
		out, herr := s.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
		if herr != nil {
			err = herr
		} else {
			o.size, err = aws.ToInt64(out.ContentLength), nil
		}
	}
	if noSuchKey(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return o, nil
}

// fetch opens the next window from at.
func (o *s3Object) fetch(at int64) error {
	last := at + o.window - 1
	if o.size >= 0 {
		last = min(last, o.size-1)
	}
	out, err := o.s.api.GetObject(o.ctx, &s3.GetObjectInput{
		Bucket: aws.String(o.s.bucket), Key: aws.String(o.key), Range: aws.String(fmt.Sprintf("bytes=%d-%d", at, last)),
	})
	if err != nil {
		return err
	}
	start, end, total, err := contentRange(aws.ToString(out.ContentRange), aws.ToInt64(out.ContentLength))
	if err == nil && start != at {
		err = errors.New("it starts elsewhere")
	}
	if err != nil {
		out.Body.Close()
		return fmt.Errorf("read %s from %d: the answer's range %q: %w", o.key, at, aws.ToString(out.ContentRange), err)
	}
	if o.size < 0 {
		o.size = total
	}
	o.body, o.pos, o.end = out.Body, at, end
	o.window = min(2*o.window, 1<<40)
	return nil
}

// contentRange parses "bytes START-END/TOTAL" into [start, end) and total;
// a server that ignores the range answers the whole object.
func contentRange(cr string, length int64) (start, end, total int64, err error) {
	if cr == "" {
		return 0, length, length, nil
	}
	spec, ok := strings.CutPrefix(cr, "bytes ")
	first, rest, ok2 := strings.Cut(spec, "-")
	last, size, ok3 := strings.Cut(rest, "/")
	if !ok || !ok2 || !ok3 {
		return 0, 0, 0, errors.New("not a byte range")
	}
	if start, err = strconv.ParseInt(first, 10, 64); err == nil {
		if end, err = strconv.ParseInt(last, 10, 64); err == nil {
			total, err = strconv.ParseInt(size, 10, 64)
		}
	}
	return start, end + 1, total, err
}

func (o *s3Object) Read(p []byte) (int, error) {
	if o.off >= o.size {
		return 0, io.EOF
	}
	if o.body != nil && o.pos != o.off {
		o.drop()
	}
	if o.body == nil {
		if err := o.fetch(o.off); err != nil {
			return 0, err
		}
	}
	if left := o.end - o.pos; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := o.body.Read(p)
	o.pos += int64(n)
	o.off += int64(n)
	switch {
	case o.pos >= o.end:
		o.drop() // the window is read; the next Read opens the next one
		err = nil
	case err == io.EOF:
		o.drop()
		err = io.ErrUnexpectedEOF
	case err != nil:
		o.drop()
	}
	return n, err
}

func (o *s3Object) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += o.off
	case io.SeekEnd:
		offset += o.size
	default:
		return 0, errors.New("seek: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("seek: negative position")
	}
	o.off = offset
	return offset, nil
}

func (o *s3Object) Close() error {
	o.drop()
	return nil
}

func (o *s3Object) drop() {
	if o.body != nil {
		o.body.Close()
		o.body = nil
	}
}
