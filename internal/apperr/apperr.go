// Package apperr is Satchel's one error type: a stable code, the HTTP status
// it maps to and a message that is safe to show a client. The edges (REST,
// tus, GraphQL) translate it; everything else only creates or wraps it.
package apperr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"satchel/internal/reqlog"
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
	QuotaExceeded   = "QUOTA_EXCEEDED"
	Internal        = "INTERNAL"
	// ChecksumMismatch is the tus checksum extension's answer (460): a
	// chunk's bytes do not match its Upload-Checksum, and none was kept.
	ChecksumMismatch = "CHECKSUM_MISMATCH"

	OffsetMismatch     = "OFFSET_MISMATCH"     // 409: tus Upload-Offset is not the server's
	Locked             = "LOCKED"              // 423: another request holds the upload
	UnsupportedVersion = "UNSUPPORTED_VERSION" // 412: missing or wrong Tus-Resumable
	MethodNotAllowed   = "METHOD_NOT_ALLOWED"  // 405
	Unavailable        = "UNAVAILABLE"         // 503: shutting down, or busy (with Retry-After)
	RequestTimeout     = "REQUEST_TIMEOUT"     // 408: a request body stalled or crawled
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
	QuotaExceeded:      http.StatusForbidden,
	Internal:           http.StatusInternalServerError,
	OffsetMismatch:     http.StatusConflict,
	Locked:             http.StatusLocked,
	UnsupportedVersion: http.StatusPreconditionFailed,
	MethodNotAllowed:   http.StatusMethodNotAllowed,
	Unavailable:        http.StatusServiceUnavailable,
	RequestTimeout:     http.StatusRequestTimeout,
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
	// Cause is what went wrong underneath, for the log; clients never see it.
	Cause error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Code + ": " + e.Message + ": " + e.Cause.Error()
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

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

// Wrap returns an INTERNAL error whose cause is err (nil for nil).
func Wrap(err error) *Error {
	if err == nil {
		return nil
	}
	return &Error{Code: Internal, Message: "internal server error", Cause: err}
}

// From returns the client-facing Error inside err, or an INTERNAL error with
// a generic message when err carries none: internals never leak.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Wrap(err)
}

// CodeOf returns the code of err (INTERNAL when it has none).
func CodeOf(err error) string { return From(err).Code }

// Log records an INTERNAL error once, with its cause chain, in the
// request's log (with its request ID); other errors are the client's and
// are not logged.
func Log(ctx context.Context, err error, attrs ...any) {
	if CodeOf(err) != Internal {
		return
	}
	reqlog.From(ctx).ErrorContext(ctx, "internal error", append([]any{"err", err}, attrs...)...)
}

// Body is the JSON error payload {"error":{"code","message","requestId"}}.
func Body(ctx context.Context, e *Error) []byte {
	inner := map[string]string{"code": e.Code, "message": e.Message}
	if id := reqlog.ID(ctx); id != "" {
		inner["requestId"] = id
	}
	body, _ := json.Marshal(map[string]any{"error": inner})
	return append(body, '\n')
}

// WriteJSON answers err as {"error":{"code","message","requestId"}} with its
// status, logging it first when it is INTERNAL. A HEAD request gets the
// status and no body.
func WriteJSON(w http.ResponseWriter, r *http.Request, err error) {
	e := From(err)
	if r != nil {
		Log(r.Context(), err, "method", r.Method, "path", r.URL.Path)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	w.WriteHeader(e.Status())
	if r == nil {
		w.Write(Body(context.Background(), e))
		return
	}
	if r.Method != http.MethodHead {
		w.Write(Body(r.Context(), e))
	}
}
