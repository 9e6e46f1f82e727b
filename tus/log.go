package tus

import (
	"context"
	"log/slog"

	expslog "golang.org/x/exp/slog"
)

// tusdLog carries tusd's log records (golang.org/x/exp/slog) into Satchel's
// logger (log/slog), with the request's context, so that they carry its
// request ID; tusd's records below Warn (one per request and chunk) are
// dropped.
type tusdLog struct {
	h     slog.Handler
	attrs []slog.Attr
	group string
}

var _ expslog.Handler = tusdLog{}

func (t tusdLog) Enabled(ctx context.Context, l expslog.Level) bool {
	return l >= expslog.LevelWarn && t.h.Enabled(ctx, slog.Level(l))
}

func (t tusdLog) Handle(ctx context.Context, r expslog.Record) error {
	rec := slog.NewRecord(r.Time, slog.Level(r.Level), "tusd: "+r.Message, r.PC)
	rec.AddAttrs(t.attrs...)
	r.Attrs(func(a expslog.Attr) bool {
		rec.AddAttrs(slog.Any(a.Key, a.Value.Any()))
		return true
	})
	h := t.h
	if t.group != "" {
		h = h.WithGroup(t.group)
	}
	return h.Handle(ctx, rec)
}

func (t tusdLog) WithAttrs(as []expslog.Attr) expslog.Handler {
	for _, a := range as {
		t.attrs = append(t.attrs[:len(t.attrs):len(t.attrs)], slog.Any(a.Key, a.Value.Any()))
	}
	return t
}

func (t tusdLog) WithGroup(name string) expslog.Handler {
	if t.group != "" {
		name = t.group + "." + name
	}
	t.group = name
	return t
}
