// Package reqlog gives every request an ID that its log lines carry: the ID
// comes from the client's X-Request-Id when it is a sane token, else it is
// generated, and it goes back in the response's X-Request-Id. Errors a client
// sees name the ID, so a report can be matched with the log line. A logger
// whose handler is wrapped by Handler adds the ID to every record logged
// with the request's context.
package reqlog

import (
	"context"
	"log/slog"
	"net/http"

	"satchel/internal/ids"
)

// Header carries the request ID both ways.
const Header = "X-Request-Id"

type ctxKey struct{}

type state struct {
	id  string
	log *slog.Logger
}

// Middleware assigns the request its ID and logger.
func Middleware(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(Header)
		if !validID(id) {
			id = ids.New()
		}
		w.Header().Set(Header, id)
		ctx := context.WithValue(r.Context(), ctxKey{}, &state{id: id, log: log})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// ID is the request's ID ("" outside a request).
func ID(ctx context.Context) string {
	if s, ok := ctx.Value(ctxKey{}).(*state); ok {
		return s.id
	}
	return ""
}

// From is the request's logger (log with its context to have the ID in the
// record), or slog's default outside a request.
func From(ctx context.Context) *slog.Logger {
	if s, ok := ctx.Value(ctxKey{}).(*state); ok {
		return s.log
	}
	return slog.Default()
}

// validID accepts 1 to 64 characters of letters, digits and - _ . : so a
// client's ID can never forge log lines or headers.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// Handler wraps h so that every record logged with a request's context
// (the *Context methods of slog.Logger) carries its request_id, whoever logs
// it: the edges, the use cases, tusd.
func Handler(h slog.Handler) slog.Handler { return idHandler{h} }

type idHandler struct{ slog.Handler }

func (h idHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := ID(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h idHandler) WithAttrs(as []slog.Attr) slog.Handler { return idHandler{h.Handler.WithAttrs(as)} }
func (h idHandler) WithGroup(name string) slog.Handler    { return idHandler{h.Handler.WithGroup(name)} }
