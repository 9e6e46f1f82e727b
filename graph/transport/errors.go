package transport

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"satchel/internal/apperr"
	"satchel/internal/reqlog"
)

// WriteError answers a request refused before GraphQL runs (authentication,
// method, malformed parameters) in the GraphQL response shape, with the
// HTTP status of the error. An INTERNAL error is logged once, with its cause
// and the request's ID, which the answer carries.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	apperr.Log(r.Context(), err, "method", r.Method, "path", r.URL.Path)
	e := apperr.From(err)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.Status())
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message": e.Message, "extensions": extensions(r.Context(), e.Code),
	}}})
}

// extensions are an error's extensions: its code, and for an INTERNAL error
// the request's ID, to match the log line.
func extensions(ctx context.Context, code string) map[string]any {
	ext := map[string]any{"code": code}
	if id := reqlog.ID(ctx); id != "" && code == apperr.Internal {
		ext["requestId"] = id
	}
	return ext
}

// tooLarge answers 413 TOO_LARGE to a body over limit.
func tooLarge(w http.ResponseWriter, r *http.Request, limit int64) {
	// The rest of the body is not read: the connection cannot be reused.
	w.Header().Set("Connection", "close")
	WriteError(w, r, apperr.Newf(apperr.TooLarge, "the request body is larger than the limit of %d bytes", limit))
}

// Operations refused before they run (BAD_USER_INPUT from the limits and
// the text check) are request errors: 400 for
// application/graphql-response+json, like parse and validation errors.
// Resolver errors are not affected.
func init() { errcode.RegisterErrorType(apperr.BadUserInput, errcode.KindProtocol) }

// presenter gives every error an extensions.code and hides internals.
func presenter(ctx context.Context, err error) *gqlerror.Error {
	var ae *apperr.Error
	if errors.As(err, &ae) && ae.Code != apperr.Internal {
		e := graphql.DefaultErrorPresenter(ctx, err)
		e.Message = ae.Message
		e.Extensions = map[string]any{"code": ae.Code}
		return e
	}
	var ge *gqlerror.Error
	if ae == nil && errors.As(err, &ge) && ge.Err == nil {
		// gqlgen's own parse and validation errors (a resolver's error
		// arrives wrapped, with Err set). Input coercion of our custom
		// scalars answers apperr errors (package scalars).
		if ge.Extensions == nil {
			ge.Extensions = map[string]any{}
		}
		if _, ok := ge.Extensions["code"]; !ok {
			ge.Extensions["code"] = apperr.BadUserInput
		}
		return ge
	}
	e := graphql.DefaultErrorPresenter(ctx, err)
	if ctx.Err() != nil {
		// The client hung up: nobody will read this, nothing failed.
		e.Message = "the request was cancelled"
		e.Extensions = map[string]any{"code": apperr.Internal}
		return e
	}
	// Logged once, with its cause and the request's ID; the client gets
	// the ID and nothing of the cause.
	apperr.Log(ctx, err, "path", graphql.GetPath(ctx).String())
	e.Message = "internal server error"
	e.Extensions = extensions(ctx, apperr.Internal)
	return e
}
