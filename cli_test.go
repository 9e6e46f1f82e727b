package main

// The command itself: its subcommands' arguments, exit statuses and output,
// through run (the server it starts is tested in test/e2e).

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"satchel/internal/testdb"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCLI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, b testdb.Backend) {
		dir := t.TempDir()
		env := map[string]string{"SATCHEL_DATA_DIR": dir, "DATABASE_URL": b.URL, "SATCHEL_LOG_LEVEL": "error"}

		if code, _, errs := runCLI(t, env, "migrate"); code != 0 {
			t.Fatalf("migrate: %d %s", code, errs)
		}
		code, out, errs := runCLI(t, env, "accounts", "create", "--name", "acme")
		if code != 0 || !regexp.MustCompile(`^[0-9A-Za-z]{22}\n$`).MatchString(out) {
			t.Fatalf("accounts create: %d %q %s", code, out, errs)
		}
		acct := strings.TrimSpace(out)
		code, out, errs = runCLI(t, env, "keys", "create", "--account", acct, "--kind", "secret")
		if code != 0 || !regexp.MustCompile(`^secret_[0-9A-Za-z]{32}\n$`).MatchString(out) {
			t.Fatalf("keys create: %d %q %s", code, out, errs)
		}
		code, out, _ = runCLI(t, env, "keys", "create", "--account", acct, "--kind", "public", "--origin", "https://app.example.com", "--origin", "http://localhost:3000")
		if code != 0 || !strings.HasPrefix(out, "public_") {
			t.Fatalf("public key: %d %q", code, out)
		}
		code, out, errs = runCLI(t, env, "keys", "create", "--account", acct, "--kind", "public", "--max-unfinished", "5")
		if code != 0 || !strings.HasPrefix(out, "public_") {
			t.Fatalf("key with a pending cap: %d %q %s", code, out, errs)
		}
		// Storage quotas: set at creation, changed, back to the default.
		code, out, errs = runCLI(t, env, "accounts", "create", "--name", "small", "--quota", "5MiB")
		if code != 0 {
			t.Fatalf("accounts create --quota: %d %s", code, errs)
		}
		small := strings.TrimSpace(out)
		show := func(id string) string {
			t.Helper()
			code, out, errs := runCLI(t, env, "accounts", "show", "--account", id)
			if code != 0 {
				t.Fatalf("accounts show: %d %s", code, errs)
			}
			return strings.TrimSpace(out)
		}
		if got := show(small); got != `{"bytesUsed":0,"id":"`+small+`","name":"small","storageQuota":5242880}` {
			t.Fatalf("show: %s", got)
		}
		if code, out, errs := runCLI(t, env, "accounts", "update", "--account", small, "--quota", "0"); code != 0 || strings.TrimSpace(out) != small {
			t.Fatalf("update: %d %q %s", code, out, errs)
		}
		if got := show(small); !strings.HasSuffix(got, `"storageQuota":0}`) {
			t.Fatalf("show after update: %s", got)
		}
		runCLI(t, env, "accounts", "update", "--account", small, "--quota", "default")
		if got := show(small); !strings.HasSuffix(got, `"storageQuota":1099511627776}`) {
			t.Fatalf("show with the default quota: %s", got)
		}
		for _, bad := range [][]string{
			{"accounts", "update", "--account", small},
			{"accounts", "update", "--account", "nope", "--quota", "1GiB"},
			{"accounts", "update", "--account", small, "--quota", "lots"},
			{"accounts", "show", "--account", "nope"},
			{"keys", "create", "--account", acct, "--kind", "public", "--max-unfinished", "0"},
			{"keys", "create", "--account", acct, "--kind", "root"},
			{"keys", "create", "--account", "nope", "--kind", "public"},
			{"keys", "create", "--account", acct, "--kind", "public", "--origin", "not a url"},
			{"accounts", "create"},
			{"accounts", "delete"},
			{"frobnicate"},
		} {
			if code, out, _ := runCLI(t, env, bad...); code == 0 || out != "" {
				t.Errorf("%v: exit %d, stdout %q; want failure and no stdout", bad, code, out)
			}
		}
	})
}
