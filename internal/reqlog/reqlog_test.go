package reqlog

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestMiddleware(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	var seen string
	h := Middleware(slog.New(Handler(log.Handler())), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = ID(r.Context())
		From(r.Context()).InfoContext(r.Context(), "hello")
	}))
	for _, c := range []struct {
		sent string
		kept bool
	}{
		{"", false},
		{"abc-123_x.y:z", true},
		{"has space", false},
		{"evil\nline", false},
		{strings.Repeat("a", 65), false},
	} {
		logs.Reset()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if c.sent != "" {
			req.Header[Header] = []string{c.sent}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Header().Get(Header)
		if got != seen || got == "" || (got == c.sent) != c.kept {
			t.Errorf("sent %q: header %q, context %q", c.sent, got, seen)
		}
		if !strings.Contains(logs.String(), "request_id="+got) {
			t.Errorf("log line without the ID: %s", logs.String())
		}
	}
	if ID(t.Context()) != "" || From(t.Context()) == nil {
		t.Error("outside a request")
	}
}

func TestHandlerAddsTheIDToContextRecords(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(Handler(slog.NewTextHandler(&logs, nil))).With("svc", "x")
	Middleware(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.WarnContext(r.Context(), "with context")
		log.Warn("without context")
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "request_id=") || !strings.Contains(lines[0], "svc=x") || strings.Contains(lines[1], "request_id=") {
		t.Fatalf("%q", lines)
	}
}
