// Package apperr is Satchel's one error type: a stable code, the HTTP status
// it maps to and a message that is safe to show a client. The edges (REST,
// tus, GraphQL) translate it; everything else only creates or wraps it.
package apperr

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// Codes. The first group is DESIGN.md's contract; the second extends it
// where the tus protocol needs finer answers.
const (
	Unauthenticated = "UNAUTHENTICATED"
	Forbidden       = "FORBIDDEN"
	NotFound        = "NOT_FOUND"
	BadUserInput    = "BAD_USER_INPUT"
	UploadIDUnknown = "UPLOAD_ID_UNKNOWN"
	UploadIDUsed    = "UPLOAD_ID_USED"
	UploadIDExpired = "UPLOAD_ID_EXPIRED"
	TooLarge        = "TOO_LARGE"
	MimeNotAllowed  = "MIME_NOT_ALLOWED"
	NotAnImage      = "NOT_AN_IMAGE"
	RateLimited     = "RATE_LIMITED"
	Internal        = "INTERNAL"
	// ChecksumMismatch is the tus checksum extension's answer (460): a
	// chunk's bytes do not match its Upload-Checksum, and none was kept.
	ChecksumMismatch = "CHECKSUM_MISMATCH"

	OffsetMismatch     = "OFFSET_MISMATCH"     // 409: tus Upload-Offset is not the server's
	Locked             = "LOCKED"              // 423: another request holds the upload
	UnsupportedVersion = "UNSUPPORTED_VERSION" // 412: missing or wrong Tus-Resumable
	MethodNotAllowed   = "METHOD_NOT_ALLOWED"  // 405
	Unavailable        = "UNAVAILABLE"         // 503: shutting down
	// UnsupportedMediaType (415) is a tus PATCH whose body is not
	// application/offset+octet-stream.
	UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
)

// StatusChecksumMismatch is the tus checksum extension's status for
// CHECKSUM_MISMATCH; net/http has no name for it.
const StatusChecksumMismatch = 460

var statuses = map[string]int{
	Unauthenticated:    http.StatusUnauthorized,
	Forbidden:          http.StatusForbidden,
	NotFound:           http.StatusNotFound,
	BadUserInput:       http.StatusBadRequest,
	UploadIDUnknown:    http.StatusNotFound,
	UploadIDUsed:       http.StatusConflict,
	UploadIDExpired:    http.StatusGone,
	TooLarge:           http.StatusRequestEntityTooLarge,
	MimeNotAllowed:     http.StatusUnsupportedMediaType,
	NotAnImage:         http.StatusUnprocessableEntity,
	RateLimited:        http.StatusTooManyRequests,
	Internal:           http.StatusInternalServerError,
	OffsetMismatch:     http.StatusConflict,
	Locked:             http.StatusLocked,
	UnsupportedVersion: http.StatusPreconditionFailed,
	MethodNotAllowed:   http.StatusMethodNotAllowed,
	Unavailable:        http.StatusServiceUnavailable,
	// The tus checksum extension; PATCH bodies of another type.
	ChecksumMismatch:     StatusChecksumMismatch,
	UnsupportedMediaType: http.StatusUnsupportedMediaType,
}

// Error is an error a client may see.
type Error struct {
	Code    string
	Message string
	// RetryAfter, in seconds, goes out as Retry-After when set.
	RetryAfter int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Status is the HTTP status for the error's code.
func (e *Error) Status() int {
	if s, ok := statuses[e.Code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Is lets errors.Is match on the code alone.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}

// New returns an Error with code and message.
func New(code, message string) *Error { return &Error{Code: code, Message: message} }

// Newf returns an Error with a formatted message.
func Newf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// StatusOf returns the status for a code.
func StatusOf(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// From returns the client-facing Error inside err, or an INTERNAL error with
// a generic message when err carries none: internals never leak.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Message: "internal server error"}
}

// CodeOf returns the code of err (INTERNAL when it has none).
func CodeOf(err error) string { return From(err).Code }

// WriteJSON answers err as {"error":{"code","message"}} with its status. A
// HEAD request gets the status and no body.
func WriteJSON(w http.ResponseWriter, r *http.Request, err error) {
	e := From(err)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	w.WriteHeader(e.Status())
	if r != nil && r.Method == http.MethodHead {
		return
	}
	body, _ := json.Marshal(map[string]any{"error": map[string]string{"code": e.Code, "message": e.Message}})
	w.Write(append(body, '\n'))
}
