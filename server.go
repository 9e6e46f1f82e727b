// Command satchel is a self-hosted upload service: a GraphQL API and a tus
// endpoint in one binary. This file holds the subcommands, their flags and
// the signals; package app wires the server.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"satchel/app"
	"satchel/internal/auth"
	"satchel/internal/config"
)

const usage = `usage:
  satchel [serve] [flags]                      run the server (default)
  satchel migrate [flags]                      apply database migrations
  satchel accounts create --name NAME [--quota SIZE]
                                               create an account, print its ID
  satchel accounts update --account ID --quota SIZE|default
                                               set an account's storage quota
  satchel accounts show --account ID           print an account's usage and quota (JSON)
  satchel keys create --account ID --kind public|secret [--origin O]...
                      [--max-unfinished N]
                                               create an API key, print it
Flags and environment: satchel serve -h`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, args, getenv, stdout, stderr)
	case "migrate":
		err = withDB(ctx, "satchel migrate", args, getenv, stderr, nil, func(*command) error { return nil })
	case "accounts":
		err = accountsCmd(ctx, args, getenv, stdout, stderr)
	case "keys":
		err = keysCmd(ctx, args, getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "unknown command %q\n%s\n", cmd, usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "satchel:", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load("satchel serve", args, getenv, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, cfg, cfg.Logger(stderr), stdout)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "satchel listening on http://%s\n", ln.Addr())
	return a.Serve(ctx, ln)
}

// command is what a subcommand that works on the database runs with.
type command struct {
	cfg  config.Config
	auth *auth.Service
}

// withDB loads the configuration (with the subcommand's own flags),
// opens and migrates the database, and runs f on it.
func withDB(ctx context.Context, name string, args []string, getenv func(string) string, stderr io.Writer, flags func(*flag.FlagSet), f func(*command) error) error {
	var extra []func(*flag.FlagSet)
	if flags != nil {
		extra = append(extra, flags)
	}
	cfg, err := config.Load(name, args, getenv, stderr, extra...)
	if err != nil {
		return err
	}
	d, err := app.OpenDB(ctx, cfg, cfg.Logger(stderr))
	if err != nil {
		return err
	}
	defer d.Close()
	return f(&command{cfg: cfg, auth: &auth.Service{DB: d}})
}

func accountsCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const use = "usage: satchel accounts create --name NAME [--quota SIZE] | update --account ID --quota SIZE|default | show --account ID"
	if len(args) == 0 {
		return errors.New(use)
	}
	sub := args[0]
	var name, account, quota string
	flags := func(fs *flag.FlagSet) {
		switch sub {
		case "create":
			fs.StringVar(&name, "name", "", "account name (required)")
		case "update", "show":
			fs.StringVar(&account, "account", "", "account ID (required)")
		}
		if sub != "show" {
			fs.StringVar(&quota, "quota", "", "the account's storage quota, e.g. 50GiB; 0 for none; default: the server's (--storage-quota, SATCHEL_STORAGE_QUOTA)")
		}
	}
	switch sub {
	case "create", "update", "show":
	default:
		return errors.New(use)
	}
	return withDB(ctx, "satchel accounts "+sub, args[1:], getenv, stderr, flags, func(c *command) error {
		q, err := parseQuota(sub, quota)
		if err != nil {
			return err
		}
		switch sub {
		case "create":
			a, err := c.auth.CreateAccount(ctx, name)
			if err != nil {
				return err
			}
			if q != nil {
				if err := c.auth.SetStorageQuota(ctx, a.ID, q); err != nil {
					return err
				}
			}
			fmt.Fprintln(stdout, a.ID)
		case "update":
			if err := c.auth.SetStorageQuota(ctx, account, q); err != nil {
				return err
			}
			fmt.Fprintln(stdout, account)
		case "show":
			a, err := c.auth.Account(ctx, account)
			if err != nil {
				return err
			}
			quota := c.cfg.StorageQuota
			if a.StorageQuota != nil {
				quota = *a.StorageQuota
			}
			out, _ := json.Marshal(map[string]any{"id": a.ID, "name": a.Name, "bytesUsed": a.BytesUsed, "storageQuota": quota})
			fmt.Fprintln(stdout, string(out))
		}
		return nil
	})
}

// parseQuota reads --quota: a size, or "default" (nil: the server's).
func parseQuota(sub, quota string) (*int64, error) {
	switch quota {
	case "":
		if sub == "update" {
			return nil, errors.New("accounts update: --quota is required (a size, 0 for none, or default)")
		}
		return nil, nil
	case "default":
		return nil, nil
	}
	n, err := config.ParseSize(quota)
	if err != nil {
		return nil, fmt.Errorf("storage quota: %w", err)
	}
	return &n, nil
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func keysCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: satchel keys create --account ID --kind public|secret [--origin O]... [--max-unfinished N]")
	}
	var account, kind string
	var origins stringList
	pending := -1
	flags := func(fs *flag.FlagSet) {
		fs.StringVar(&account, "account", "", "account ID (required)")
		fs.StringVar(&kind, "kind", "", "public or secret (required)")
		fs.Var(&origins, "origin", "allowed browser origin (repeatable)")
		fs.IntVar(&pending, "max-unfinished", -1, "unfinished uploads the key may have open, below the server's cap (--max-pending-uploads, SATCHEL_MAX_PENDING_UPLOADS)")
	}
	return withDB(ctx, "satchel keys create", args[1:], getenv, stderr, flags, func(c *command) error {
		opt := auth.KeyOptions{Origins: origins}
		if pending >= 0 {
			opt.MaxPendingUploads = &pending
		}
		key, _, err := c.auth.CreateKey(ctx, account, kind, opt)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, key)
		return nil
	})
}
