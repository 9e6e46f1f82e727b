package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tus/tusd/v2/pkg/handler"

	"satchel/internal/testdb"
	"satchel/internal/uploads"
)

// One unreadable upload does not stop crash repair of the others: each is
// repaired or set aside on its own, with a log line and a metric.
func TestReconcileSetsAsideBadUploads(t *testing.T) {
	testdb.Each(t, func(t *testing.T, b testdb.Backend) {
		s := newTestServer(t, b)
		ctx := context.Background()
		svc := s.app.Uploads
		p, err := s.authService().Authenticate(ctx, s.keys.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		// Uploads whose bytes are complete but whose File never committed
		// (as a crash between the last byte and the commit leaves them), and
		// among them some whose .info is garbage.
		var good, bad []string
		for i := range 12 {
			up, err := svc.Begin(ctx, p, uploads.BeginInput{Size: 5})
			if err != nil {
				t.Fatal(err)
			}
			bu, err := svc.Bytes.NewUpload(ctx, handler.FileInfo{ID: up.ID, Size: 5, MetaData: handler.MetaData{}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := bu.WriteChunk(ctx, 0, strings.NewReader("hello")); err != nil {
				t.Fatal(err)
			}
			if i%3 == 0 {
				if err := os.WriteFile(filepath.Join(s.cfg.FilesDir(), up.ID+".info"), []byte("{not json"), 0o600); err != nil {
					t.Fatal(err)
				}
				bad = append(bad, up.ID)
				continue
			}
			good = append(good, up.ID)
		}
		n, err := svc.Reconcile(ctx)
		if err != nil || n != len(good) {
			t.Fatalf("reconcile: %d %v, want %d finished", n, err, len(good))
		}
		for _, id := range good {
			if f := s.getFile(t, s.keys.SecretKey, id); f == nil {
				t.Fatalf("good upload %s not finished", id)
			}
		}
		// Set aside: the next pass neither retries nor logs them again.
		if n, err := svc.Reconcile(ctx); err != nil || n != 0 {
			t.Fatalf("second pass: %d %v", n, err)
		}
		resp, body := s.do(t, http.MethodGet, "/metrics", "", nil, nil)
		if resp.StatusCode != 200 || !strings.Contains(string(body), "satchel_reconcile_set_aside_total 4") {
			t.Fatalf("metric: %d %s", resp.StatusCode, grepLines(string(body), "set_aside"))
		}
		for _, id := range bad {
			if f := s.getFile(t, s.keys.SecretKey, id); f != nil {
				t.Fatalf("unreadable upload %s committed", id)
			}
		}
	})
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
