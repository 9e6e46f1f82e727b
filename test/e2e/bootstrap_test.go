package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"satchel/internal/config"
	"satchel/internal/testdb"
)

func TestBootstrapKeysFile(t *testing.T) {
	s := newTestServer(t, testdb.SQLite(t))
	st, err := os.Stat(filepath.Join(s.dataDir, "bootstrap-keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("bootstrap-keys.json mode %v, want 0600", st.Mode().Perm())
	}
	if !strings.HasPrefix(s.keys.PublicKey, "public_") || !strings.HasPrefix(s.keys.SecretKey, "secret_") || s.keys.AccountID == "" {
		t.Fatalf("keys = %+v", s.keys)
	}
	// The keys work, and only the secret one reads.
	if code, r := s.gql(t, s.keys.SecretKey, `{ files { edges { cursor } } }`, nil); code != 200 || len(r.Errors) > 0 {
		t.Fatalf("secret key: %d %+v", code, r.Errors)
	}
	if _, r := s.gql(t, s.keys.PublicKey, `{ files { edges { cursor } } }`, nil); r.errCode() != "FORBIDDEN" {
		t.Fatalf("public key read: %+v", r.Errors)
	}
}

func TestDataDirIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "data")
	s := newTestServer(t, testdb.Backend{Name: "sqlite", URL: filepath.Join(dir, "satchel.db")}, func(c *config.Config) { c.DataDir = dir })
	id := s.basicUpload(t, s.keys.PublicKey, "a.txt", "text/plain", []byte("private"))
	for _, c := range []struct {
		path string
		mode os.FileMode
	}{
		{dir, 0o700},
		{filepath.Join(dir, "satchel.db"), 0o600},
		{filepath.Join(dir, "satchel.db-wal"), 0o600},
		{filepath.Join(dir, "bootstrap-keys.json"), 0o600},
		{s.cfg.FilesDir(), 0o700},
		{filepath.Join(s.cfg.FilesDir(), id), 0o600},
		{filepath.Join(s.cfg.FilesDir(), id+".info"), 0o600},
	} {
		st, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&^c.mode != 0 {
			t.Errorf("%s: mode %v, want at most %v", c.path, st.Mode().Perm(), c.mode)
		}
	}
}
