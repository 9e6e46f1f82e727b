package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"satchel/internal/ids"
)

// Multipart sessions. A session is a file whose size is known from the
// start, written as parts at their offsets, in any order and in parallel,
// and made the file id when it completes. The bytes go where the file will
// be, once:
//
//   - the filestore creates the file <dir>/<id> (sparse) when the session
//     begins and writes each part into it at its offset (pwrite); a part
//     sent as a tus upload is copied in at its offset by the kernel
//     (copy_file_range) when that upload completes;
//   - S3 begins one multipart upload for the file (Content-Type: the
//     declared type): each part streams into its S3 part (part number =
//     index + 1); a part sent as a tus upload is copied by S3
//     (UploadPartCopy) from that upload's object; completing the session
//     completes the multipart upload, with nothing downloaded.
//
// The file's SHA-256 is computed as the parts arrive, in order, by the
// session's frontier hasher (sessionhash.go); what it has not covered when
// the session completes is read back from the stored file.

// SessionPart is one part of a session: where its bytes go and, once they
// are stored, what the store knows of them.
type SessionPart struct {
	Index  int
	Offset int64
	Size   int64
	// SHA256 is the hex SHA-256 of the part's stored bytes ("" before).
	SHA256 string
	// Tag is the store's own reference to the stored part, needed to
	// complete the session (S3: the part's ETag; "" for the filestore).
	Tag string
}

// ErrShortPart is returned when a part's body ends (or fails) before the
// part's size: the client's fault, not the store's.
var ErrShortPart = errors.New("storage: the part's body ended early")

// BeginSession creates the storage of session id, a file of size bytes
// whose declared type is contentType ("" for none). Beginning a session
// that has begun changes nothing.
func (s *Store) BeginSession(ctx context.Context, id string, size int64, contentType string) error {
	if !ids.Valid(id) {
		return ErrNotFound
	}
	if err := s.bytes.beginSession(ctx, id, size, contentType); err != nil {
		return fmt.Errorf("begin session %s: %w", id, err)
	}
	return nil
}

// PutSessionPart stores part p of session id from body, which must hold
// p.Size bytes (more are not read), and returns p with its SHA-256 and the
// store's tag. The caller holds the part's lock: one write per part at a
// time. A body that ends early fails with ErrShortPart; the part's bytes
// are then undefined until it is written again.
func (s *Store) PutSessionPart(ctx context.Context, id string, p SessionPart, body io.Reader) (SessionPart, error) {
	if !ids.Valid(id) {
		return p, ErrNotFound
	}
	p.SHA256, p.Tag = "", ""
	w := s.sessions.startPart(id, p)
	ph := sha256.New()
	src := &sourceReader{r: io.LimitReader(body, p.Size)}
	hr := &hashingReader{src: src, h: io.MultiWriter(ph, w), pipeline: p.Size >= pipeMinBytes}
	if w.none() {
		hr.h = ph
	}
	tag, err := s.bytes.writePart(ctx, id, p, hr)
	switch {
	case src.err != nil || src.n < p.Size:
		err = fmt.Errorf("%w: %d of %d bytes (%v)", ErrShortPart, src.n, p.Size, src.err)
	case err == nil && hr.n != p.Size:
		err = fmt.Errorf("%d of %d bytes stored", hr.n, p.Size)
	}
	if err == nil {
		p.SHA256, p.Tag = hex.EncodeToString(ph.Sum(nil)), tag
	}
	var open func(context.Context) (io.ReadCloser, error)
	if s.bytes.readsParts() {
		open = func(ctx context.Context) (io.ReadCloser, error) { return s.readSession(ctx, id, p.Offset, p.Size) }
	}
	s.sessions.endPart(ctx, w, p, err == nil, open)
	if err != nil {
		return p, fmt.Errorf("session %s: part %d: %w", id, p.Index, err)
	}
	return p, nil
}

// sourceReader counts what its reader gave and keeps the error it failed
// with, to tell a short body from a failing store.
type sourceReader struct {
	r   io.Reader
	n   int64
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += int64(n)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// CopySessionPart stores part p of session id from the complete upload
// from, whose bytes are the part's, and returns p with its SHA-256 (the
// upload's running digest) and the store's tag. The caller holds the
// part's lock (for a tus upload: tusd's, in its pre-finish hook).
func (s *Store) CopySessionPart(ctx context.Context, id string, p SessionPart, from string) (SessionPart, error) {
	if !ids.Valid(id) || !ids.Valid(from) {
		return p, ErrNotFound
	}
	sum, err := s.hashing.checksum(ctx, from, p.Size)
	if err != nil {
		return p, fmt.Errorf("session %s: part %d: %w", id, p.Index, err)
	}
	tag, err := s.bytes.copyPart(ctx, id, p, from)
	if err != nil {
		return p, fmt.Errorf("session %s: part %d: copy %s: %w", id, p.Index, from, err)
	}
	p.SHA256, p.Tag = sum, tag
	s.sessions.copied(ctx, id, p, func(ctx context.Context) (io.ReadCloser, error) { return s.readSession(ctx, from, 0, p.Size) })
	return p, nil
}

// CompleteSession makes session id's parts (every part, in order, each
// stored) the file id and returns its SHA-256: the frontier hasher's,
// finished with the parts it holds and, for the rest, the bytes read back
// from the file. Completing a completed session completes nothing and
// returns the digest again (read back, if this process has forgotten it).
func (s *Store) CompleteSession(ctx context.Context, id string, size int64, parts []SessionPart) (string, error) {
	if !ids.Valid(id) {
		return "", ErrNotFound
	}
	var total int64
	for i, p := range parts {
		if p.Index != i || p.Offset != total || p.SHA256 == "" {
			return "", fmt.Errorf("complete session %s: part %d (of %d) is not the next stored part", id, i, len(parts))
		}
		total += p.Size
	}
	if total != size {
		return "", fmt.Errorf("complete session %s: its parts hold %d bytes, not %d", id, total, size)
	}
	if err := s.bytes.completeSession(ctx, id, size, parts); err != nil {
		return "", fmt.Errorf("complete session %s: %w", id, err)
	}
	sum, err := s.sessions.complete(ctx, id, parts, func(offset, n int64) (io.ReadCloser, error) {
		return s.readSession(ctx, id, offset, n)
	})
	if err != nil {
		return "", fmt.Errorf("complete session %s: digest: %w", id, err)
	}
	return sum, nil
}

// readSession reads n bytes of the stored bytes of id from offset.
func (s *Store) readSession(ctx context.Context, id string, offset, n int64) (io.ReadCloser, error) {
	obj, err := s.bytes.open(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := obj.Seek(offset, io.SeekStart); err != nil {
		obj.Close()
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(obj, n), obj}, nil
}

// AbortSession drops the storage of an unfinished session (its file, its
// multipart upload) and what this process held of its digest. A session
// that is gone is fine.
func (s *Store) AbortSession(ctx context.Context, id string) error {
	if !ids.Valid(id) {
		return nil
	}
	s.sessions.drop(id)
	if err := s.hashing.forget(ctx, id); err != nil {
		return fmt.Errorf("abort session %s: %w", id, err)
	}
	if err := s.bytes.abortSession(ctx, id); err != nil {
		return fmt.Errorf("abort session %s: %w", id, err)
	}
	return nil
}

// SessionStats reports how the sessions' digests were computed in this
// process: bytes hashed as they streamed in at the frontier, bytes hashed
// from memory (parts held while ahead of it), and bytes read back from the
// store; and the bytes held in memory now.
func (s *Store) SessionStats() SessionStats { return s.sessions.stats() }
