package transport

import (
	"io"
	"mime/multipart"
	"sync"

	"github.com/99designs/gqlgen/graphql"

	"satchel/internal/apperr"
)

// partStream hands the file parts of one request to their uploadReaders,
// in the order they arrive.
type partStream struct {
	mu    sync.Mutex
	mr    *multipart.Reader
	files map[string]*streamFile // by field name, as mapped
	order []*streamFile
	check func(n int64) error // per-file size rule; nil: none

	cur  *multipart.Part // the part at the head of the stream
	curF *streamFile
	curN int64 // bytes of cur read so far
	// err is the request's error, once one is found: it fails every later
	// read and the response.
	err    error
	ended  bool // the closing boundary was read
	closed bool // the operation is over
}

type fileState int

const (
	fileWaiting fileState = iota // its part has not arrived
	fileCurrent                  // its part is at the head of the stream
	fileRead                     // read to the end
	fileSkipped                  // discarded: it was not read in order
)

type streamFile struct {
	name    string
	state   fileState
	readers []*uploadReader // one per map path
	owner   *uploadReader   // the reader that read it first
	// From the part's header, once it arrived.
	filename, contentType string
}

// rebind points the readers at the operation's coerced variables (a copy
// of the top level of the request's), so that the Uploads gain their
// part's file name and type when its header arrives.
func (s *partStream) rebind(vars map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.order {
		for _, rd := range f.readers {
			rd.set = nil
			v, set, ok := locate(vars, rd.path)
			if up, isUpload := v.(graphql.Upload); ok && isUpload && up.File == io.ReadSeeker(rd) {
				rd.set = set
				set(rd.upload())
			}
		}
	}
}

func (s *partStream) fail(err error) error {
	if s.err == nil {
		s.err = err
	}
	return s.err
}

// start reads the first file part's header.
func (s *partStream) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.advance()
}

// advance moves to the next part, checking its header, or to the end of
// the body, checking that every mapped file came.
func (s *partStream) advance() error {
	s.cur, s.curF, s.curN = nil, nil, 0
	p, err := s.mr.NextPart()
	if err == io.EOF {
		s.ended = true
		for _, f := range s.order {
			if f.state == fileWaiting {
				return s.fail(apperr.Newf(apperr.BadUserInput, "the map names file %q but the request has no such part", truncate(f.name)))
			}
		}
		return nil
	}
	if err != nil {
		return s.fail(readError(err))
	}
	name := p.FormName()
	f, ok := s.files[name]
	switch {
	case !ok:
		return s.fail(apperr.Newf(apperr.BadUserInput, "part %q is not a file the map names", truncate(name)))
	case f.state != fileWaiting:
		return s.fail(apperr.Newf(apperr.BadUserInput, "part %q comes more than once", truncate(name)))
	}
	f.state = fileCurrent
	f.filename, f.contentType = p.FileName(), p.Header.Get("Content-Type")
	for _, rd := range f.readers {
		if rd.set != nil {
			rd.set(rd.upload())
		}
	}
	s.cur, s.curF = p, f
	return nil
}

// readCur reads the current part, applying the size rule.
func (s *partStream) readCur(b []byte) (int, error) {
	n, err := s.cur.Read(b)
	s.curN += int64(n)
	if s.check != nil {
		if cerr := s.check(s.curN); cerr != nil {
			return n, s.fail(cerr)
		}
	}
	if err != nil && err != io.EOF {
		return n, s.fail(readError(err))
	}
	return n, err
}

// skip discards the rest of the current part and moves to the next.
func (s *partStream) skip(state fileState) error {
	buf := make([]byte, 32<<10)
	for {
		_, err := s.readCur(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	s.curF.state = state
	return s.advance()
}

func (s *partStream) read(u *uploadReader, b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, s.err
	}
	f := u.file
	if f.owner != nil && f.owner != u {
		return 0, u.failure(apperr.Newf(apperr.BadUserInput, "file %q is used at more than one path: a streamed file can be read only once", truncate(f.name)))
	}
	if s.closed {
		return 0, u.failure(apperr.New(apperr.BadUserInput, "the request is over: its files can no longer be read"))
	}
	for f.state == fileWaiting && s.cur != nil {
		// A later file is wanted: the ones before it can never be read.
		if err := s.skip(fileSkipped); err != nil {
			return 0, err
		}
	}
	switch {
	case f.state == fileRead && f.owner == u:
		return 0, io.EOF
	case f.state != fileCurrent:
		return 0, u.failure(apperr.Newf(apperr.BadUserInput, "file %q was discarded: the operation must read the files in the order they are sent", truncate(f.name)))
	}
	f.owner = u
	n, err := s.readCur(b)
	u.off += int64(n)
	if err == io.EOF {
		f.state = fileRead
		// Report the end only once what follows is known to be sound.
		if aerr := s.advance(); aerr != nil {
			return n, aerr
		}
	}
	return n, err
}

// finish ends the operation: the parts nobody read are discarded and the
// rest of the body is checked. It returns the request's error, if any.
func (s *partStream) finish() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for s.err == nil && !s.ended && s.cur != nil {
		if err := s.skip(fileSkipped); err != nil {
			break
		}
	}
	return s.err
}
