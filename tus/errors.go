package tus

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/tus/tusd/v2/pkg/handler"

	"satchel/internal/apperr"
)

// tusdCodes maps tusd's own error codes to Satchel's. Anything unlisted
// keeps tusd's status and becomes BAD_USER_INPUT (4xx) or INTERNAL (5xx).
var tusdCodes = map[string]string{
	"ERR_UPLOAD_NOT_FOUND":      apperr.NotFound,
	"ERR_MAX_SIZE_EXCEEDED":     apperr.TooLarge,
	"ERR_UPLOAD_SIZE_EXCEEDED":  apperr.TooLarge,
	"ERR_MISMATCHED_OFFSET":     apperr.OffsetMismatch,
	"ERR_UPLOAD_LOCKED":         apperr.Locked,
	"ERR_LOCK_TIMEOUT":          apperr.Locked,
	"ERR_UNSUPPORTED_VERSION":   apperr.UnsupportedVersion,
	"ERR_SERVER_SHUTDOWN":       apperr.Unavailable,
	"ERR_INVALID_CONTENT_TYPE":  apperr.UnsupportedMediaType,
	"ERR_INTERNAL_SERVER_ERROR": apperr.Internal,
	"ERR_MODIFY_FINAL":          apperr.Forbidden,
	"ERR_UPLOAD_INTERRUPTED":    apperr.Locked, // another request for the upload took it over
	"ERR_NOT_IMPLEMENTED":       apperr.BadUserInput,
	// The client stalled or went away: nothing is wrong with the server.
	"ERR_READ_TIMEOUT":     apperr.RequestTimeout,
	"ERR_CONNECTION_RESET": apperr.BadUserInput,
}

// hookError turns an error from a Satchel hook into the tusd error that
// carries Satchel's JSON payload (with the request's ID); an INTERNAL one is
// logged once, with its cause.
func hookError(ctx context.Context, err error) error {
	apperr.Log(ctx, err)
	e := apperr.From(err)
	body := apperr.Body(ctx, e)
	header := handler.HTTPHeader{"Content-Type": "application/json; charset=utf-8"}
	if e.RetryAfter > 0 {
		header["Retry-After"] = strconv.Itoa(e.RetryAfter)
	}
	return handler.Error{
		ErrorCode: e.Code,
		Message:   e.Message,
		HTTPResponse: handler.HTTPResponse{
			StatusCode: e.Status(),
			Body:       string(body),
			Header:     header,
		},
	}
}

// errorRewriter rewrites tusd's plain-text error responses into Satchel's
// JSON payload. Successful responses and Satchel's own JSON errors pass
// through unbuffered, their bodies untouched.
type errorRewriter struct {
	http.ResponseWriter
	req *http.Request
	// header, when set, edits every response's header just before it goes
	// out, with the status it goes out with.
	header    func(h http.Header, status int)
	buffering bool
	buf       bytes.Buffer
	status    int
	wrote     bool
}

func (e *errorRewriter) WriteHeader(status int) {
	if e.wrote {
		return
	}
	e.wrote, e.status = true, status
	ct := e.Header().Get("Content-Type")
	if status >= 400 && (ct == "" || strings.HasPrefix(ct, "text/plain")) {
		e.buffering = true
		return
	}
	e.writeHeader(status)
}

func (e *errorRewriter) writeHeader(status int) {
	if e.header != nil {
		e.header(e.Header(), status)
	}
	e.ResponseWriter.WriteHeader(status)
}

func (e *errorRewriter) Write(p []byte) (int, error) {
	if !e.wrote {
		e.WriteHeader(http.StatusOK)
	}
	if e.buffering {
		if e.buf.Len() < 4096 {
			e.buf.Write(p)
		}
		return len(p), nil
	}
	return e.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController (read deadlines) reach the connection.
func (e *errorRewriter) Unwrap() http.ResponseWriter { return e.ResponseWriter }

// Flush passes through when not buffering.
func (e *errorRewriter) Flush() {
	if !e.buffering {
		if f, ok := e.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
	}
}

// Hijack is never used by tus, but keep the capability visible.
func (e *errorRewriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := e.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("hijack not supported")
}

// finish sends the rewritten error, if one was held back.
func (e *errorRewriter) finish() {
	if !e.buffering {
		return
	}
	tusdCode, msg, _ := strings.Cut(strings.TrimSpace(e.buf.String()), ": ")
	code, known := tusdCodes[tusdCode]
	status := e.status
	switch {
	case known:
		status = apperr.StatusOf(code)
	case status == http.StatusMethodNotAllowed:
		code = apperr.MethodNotAllowed
	case status >= 500:
		code = apperr.Internal
	default:
		code = apperr.BadUserInput
	}
	if code == apperr.Internal || msg == "" {
		msg = http.StatusText(status)
	}
	if code == apperr.Internal {
		apperr.Log(e.req.Context(), fmt.Errorf("tusd answered %d: %s", status, truncate(e.buf.String(), 512)))
		msg = "internal server error"
	}
	h := e.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Del("Content-Length")
	e.writeHeader(status)
	if e.req.Method == http.MethodHead {
		return
	}
	e.ResponseWriter.Write(apperr.Body(e.req.Context(), apperr.New(code, msg)))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
