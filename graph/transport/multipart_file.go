package transport

import (
	"errors"
	"io"

	"github.com/99designs/gqlgen/graphql"
)

// uploadReader is the File of a streamed graphql.Upload: it reads the
// file's part as the request body arrives, so the bytes are never held.
//
// graphql.Upload wants an io.ReadSeeker, but a stream cannot go back: Seek
// succeeds only when it is a no-op (to the current offset, as io.Copy-style
// callers and size probes do with Seek(0, io.SeekCurrent)) and fails
// otherwise. Callers must read the file once, from the start.
type uploadReader struct {
	s    *partStream
	file *streamFile
	path []string  // in the variables
	set  func(any) // replaces its Upload in the variables
	off  int64
	err  error // the last error that concerned this reader alone
}

// upload is the reader's Upload, with what is known of its part. The size
// is never known before the part has been read: -1.
func (u *uploadReader) upload() graphql.Upload {
	return graphql.Upload{File: u, Filename: u.file.filename, ContentType: u.file.contentType, Size: -1}
}

var _ io.ReadSeeker = (*uploadReader)(nil)

// errNotSeekable is returned by uploadReader.Seek for any real move.
var errNotSeekable = errors.New("graphql upload: a streamed file cannot seek")

func (u *uploadReader) Read(b []byte) (int, error) { return u.s.read(u, b) }

func (u *uploadReader) Seek(offset int64, whence int) (int64, error) {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	if (whence == io.SeekCurrent && offset == 0) || (whence == io.SeekStart && offset == u.off) {
		return u.off, nil
	}
	return u.off, errNotSeekable
}

func (u *uploadReader) failure(err error) error {
	u.err = err
	return err
}

// UploadError is the client-facing reason a read of an Upload's File
// failed, when the multipart transport knows one: resolvers return it in
// place of a generic "could not read" error. It is nil for other readers.
func UploadError(f io.Reader) error {
	u, ok := f.(*uploadReader)
	if !ok {
		return nil
	}
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	if u.s.err != nil {
		return u.s.err
	}
	return u.err
}
