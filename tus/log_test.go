package tus

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	expslog "golang.org/x/exp/slog"

	"satchel/internal/reqlog"
)

// tusd's warnings reach Satchel's logger with the request's ID; its chatter
// below Warn does not.
func TestTusdLogCarriesTheRequestID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(reqlog.Handler(slog.NewTextHandler(&buf, nil)))
	tusd := expslog.New(tusdLog{h: log.Handler()}).With("id", "abc")
	var id string
	reqlog.Middleware(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id = reqlog.ID(r.Context())
		tusd.InfoContext(r.Context(), "ChunkWriteStart")
		tusd.WarnContext(r.Context(), "NetworkTimeoutError", "error", "read timeout")
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("PATCH", "/uploads/x", nil))
	out := buf.String()
	if strings.Contains(out, "ChunkWriteStart") {
		t.Fatalf("tusd's info records were logged: %s", out)
	}
	for _, want := range []string{"tusd: NetworkTimeoutError", "request_id=" + id, "id=abc", `error="read timeout"`} {
		if !strings.Contains(out, want) {
			t.Fatalf("log %q lacks %q", out, want)
		}
	}
}
