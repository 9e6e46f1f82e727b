package uploads

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"satchel/internal/apperr"
	"satchel/internal/mimes"
	"satchel/models"
)

// ContentType decides the type of an upload from its first bytes (at least
// mimes.SniffLen of them, or the whole file): the declared type, or the
// sniffed one when none was declared. Under type rules the sniffed type is
// the one checked when no type was declared, and a declared type that the
// content contradicts (an HTML page declared as image/png) is refused.
func ContentType(rules [][]string, declared string, head []byte) (string, error) {
	sniffed := mimes.Sniff(head)
	for _, patterns := range rules {
		if len(patterns) == 0 || mimes.Allowed(sniffed, patterns) {
			continue
		}
		if declared == "" {
			return "", apperr.Newf(apperr.MimeNotAllowed, "the file's content looks like %s, which is not an allowed type (%s); declare its type if it is one of them", sniffed, strings.Join(patterns, ", "))
		}
		if mimes.Contradicts(declared, sniffed) {
			return "", apperr.Newf(apperr.MimeNotAllowed, "the file's content looks like %s, not the declared %s", sniffed, declared)
		}
	}
	if declared != "" {
		return declared, nil
	}
	if len(head) == 0 {
		return defaultContentType, nil
	}
	return http.DetectContentType(head), nil
}

// GuardHead checks the type of an upload's first bytes before they reach
// the store, when the upload has type rules: body is read until
// mimes.SniffLen bytes (or its end) are at hand, and a refused type fails
// the first Read with MIME_NOT_ALLOWED, so nothing is written. whole says
// that body holds the file from its first byte to its last; otherwise a
// body shorter than mimes.SniffLen decides nothing (the finishing step
// checks the whole head again in any case).
func GuardHead(up *models.Upload, body io.Reader, whole bool) io.Reader {
	if len(up.MimeRules) == 0 {
		return body
	}
	return &headGuard{src: body, rules: up.MimeRules, declared: up.Mime, whole: whole}
}

type headGuard struct {
	src      io.Reader
	rules    [][]string
	declared string
	whole    bool
	head     []byte // read ahead, not yet handed on
	checked  bool
	err      error
}

func (g *headGuard) Read(p []byte) (int, error) {
	if !g.checked {
		g.checked = true
		buf := make([]byte, mimes.SniffLen)
		n, err := io.ReadFull(g.src, buf)
		g.head = buf[:n]
		switch {
		case err == nil || ((errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) && g.whole):
			if _, cerr := ContentType(g.rules, g.declared, g.head); cerr != nil {
				g.head, g.err = nil, cerr
			}
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			// A short first chunk of a longer file: the finish decides.
		default:
			g.err = err
		}
		if g.err == nil && err != nil {
			g.err = io.EOF
		}
	}
	if len(g.head) > 0 {
		n := copy(p, g.head)
		g.head = g.head[n:]
		return n, nil
	}
	if g.err != nil {
		return 0, g.err
	}
	return g.src.Read(p)
}

// readHead reads the first mimes.SniffLen bytes of a stored upload.
func (s *Service) readHead(ctx context.Context, id string) ([]byte, error) {
	obj, err := s.Bytes.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	buf := make([]byte, mimes.SniffLen)
	n, err := io.ReadFull(obj, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	return bytes.Clone(buf[:n]), nil
}
