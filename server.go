// Command satchel is a self-hosted upload service: a GraphQL API and a tus
// endpoint in one binary. This file is the composition root: configuration
// -> database -> migrations -> services -> HTTP server, and the subcommands.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	tusdhandler "github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/prometheuscollector"
	"github.com/uptrace/bun"

	"satchel/graph"
	"satchel/internal/apperr"
	"satchel/internal/auth"
	"satchel/internal/config"
	"satchel/internal/db"
	"satchel/internal/httpapi"
	"satchel/internal/images"
	"satchel/internal/playground"
	"satchel/internal/reqlog"
	"satchel/internal/storage"
	"satchel/internal/uploads"
	"satchel/migrations"
	"satchel/transforms"
	"satchel/tus"
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
		err = migrateCmd(ctx, args, getenv, stdout, stderr)
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

// openDB opens and migrates the database.
func openDB(ctx context.Context, cfg config.Config, log *slog.Logger) (*bun.DB, error) {
	d, err := db.Open(ctx, cfg.DatabaseURL, cfg.SQLitePath())
	if err != nil {
		return nil, err
	}
	applied, err := migrations.Run(ctx, d)
	if err != nil {
		d.Close()
		return nil, err
	}
	if len(applied) > 0 {
		log.Info("migrations applied", "migrations", applied)
	}
	return d, nil
}

func migrateCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load("satchel migrate", args, getenv, stderr)
	if err != nil {
		return err
	}
	d, err := openDB(ctx, cfg, cfg.Logger(stderr))
	if err != nil {
		return err
	}
	return d.Close()
}

func accountsCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const use = "usage: satchel accounts create --name NAME [--quota SIZE] | update --account ID --quota SIZE|default | show --account ID"
	if len(args) == 0 {
		return errors.New(use)
	}
	var name, account, quota string
	flags := func(fs *flag.FlagSet) {
		switch args[0] {
		case "create":
			fs.StringVar(&name, "name", "", "account name (required)")
		case "update", "show":
			fs.StringVar(&account, "account", "", "account ID (required)")
		}
		if args[0] != "show" {
			fs.StringVar(&quota, "quota", "", "the account's storage quota, e.g. 50GiB; 0 for none; default: the server's (--storage-quota, SATCHEL_STORAGE_QUOTA)")
		}
	}
	switch args[0] {
	case "create", "update", "show":
	default:
		return errors.New(use)
	}
	cfg, err := config.Load("satchel accounts "+args[0], args[1:], getenv, stderr, flags)
	if err != nil {
		return err
	}
	var q *int64
	switch quota {
	case "", "default":
		if args[0] == "update" && quota == "" {
			return errors.New("accounts update: --quota is required (a size, 0 for none, or default)")
		}
	default:
		n, err := config.ParseSize(quota)
		if err != nil {
			return fmt.Errorf("storage quota: %w", err)
		}
		q = &n
	}
	d, err := openDB(ctx, cfg, cfg.Logger(stderr))
	if err != nil {
		return err
	}
	defer d.Close()
	svc := &auth.Service{DB: d}
	switch args[0] {
	case "create":
		a, err := svc.CreateAccount(ctx, name)
		if err != nil {
			return err
		}
		if q != nil {
			if err := svc.SetStorageQuota(ctx, a.ID, q); err != nil {
				return err
			}
		}
		fmt.Fprintln(stdout, a.ID)
	case "update":
		if err := svc.SetStorageQuota(ctx, account, q); err != nil {
			return err
		}
		fmt.Fprintln(stdout, account)
	case "show":
		a, err := svc.Account(ctx, account)
		if err != nil {
			return err
		}
		quota := cfg.StorageQuota
		if a.StorageQuota != nil {
			quota = *a.StorageQuota
		}
		out, _ := json.Marshal(map[string]any{"id": a.ID, "name": a.Name, "bytesUsed": a.BytesUsed, "storageQuota": quota})
		fmt.Fprintln(stdout, string(out))
	}
	return nil
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func keysCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: satchel keys create --account ID --kind public|secret [--origin O]...")
	}
	var account, kind string
	var origins stringList
	pending := -1
	cfg, err := config.Load("satchel keys create", args[1:], getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&account, "account", "", "account ID (required)")
		fs.StringVar(&kind, "kind", "", "public or secret (required)")
		fs.Var(&origins, "origin", "allowed browser origin (repeatable)")
		fs.IntVar(&pending, "max-unfinished", -1, "unfinished uploads the key may have open, below the server's cap (--max-pending-uploads, SATCHEL_MAX_PENDING_UPLOADS)")
	})
	if err != nil {
		return err
	}
	d, err := openDB(ctx, cfg, cfg.Logger(stderr))
	if err != nil {
		return err
	}
	defer d.Close()
	opt := auth.KeyOptions{Origins: origins}
	if pending >= 0 {
		opt.MaxPendingUploads = &pending
	}
	key, _, err := (&auth.Service{DB: d}).CreateKey(ctx, account, kind, opt)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, key)
	return nil
}

// app is the wired server.
type app struct {
	handler http.Handler
	uploads *uploads.Service
	images  *images.Service
	tus     *tus.Handler
	db      *bun.DB
	// statements counts the SQL statements run (satchel_db_statements_total).
	statements *db.Counter
}

func build(ctx context.Context, cfg config.Config, log *slog.Logger, getenv func(string) string, stdout io.Writer) (*app, error) {
	d, err := openDB(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	statements := new(db.Counter)
	d.AddQueryHook(statements)
	authSvc := &auth.Service{DB: d, PublicURL: cfg.PublicURL}
	boot, err := authSvc.Bootstrap(ctx, cfg.DataDir)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if boot != nil {
		fmt.Fprintf(stdout, "Created account %s (\"default\"). These keys are shown once and saved to %s/bootstrap-keys.json:\n  public key: %s\n  secret key: %s\n",
			boot.AccountID, cfg.DataDir, boot.PublicKey, boot.SecretKey)
	}
	store, err := storage.NewFile(cfg.FilesDir())
	if err != nil {
		d.Close()
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "satchel_db_statements_total", Help: "SQL statements run.",
	}, func() float64 { return float64(statements.Statements()) }))
	svc := &uploads.Service{
		DB: d, Bytes: store, Log: log, PublicURL: cfg.PublicURL,
		MaxUploadSize: cfg.MaxUploadSize, UploadTTL: cfg.UploadTTL,
		StorageQuota: cfg.StorageQuota, MaxPendingUploads: cfg.MaxPendingUploads,
		Observer: httpapi.NewMetrics(reg), Limiter: uploads.NewWindowLimiter(),
	}
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "satchel_db_commits_total", Help: "Transactions run by the group commit of upload rows and files.",
		}, func() float64 { t, _ := svc.CommitStats(); return float64(t) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "satchel_db_commit_writes_total", Help: "Upload rows and files written by the group commit.",
		}, func() float64 { _, w := svc.CommitStats(); return float64(w) }),
	)
	if getenv("SATCHEL_FAULT") == "finish-before-commit" {
		// Test hook for crash safety: die between the last byte and the commit.
		svc.BeforeCommit = func(string) { syscall.Kill(os.Getpid(), syscall.SIGKILL); select {} }
	}
	renderer := transforms.New(transforms.Limits{MaxPixels: cfg.MaxImagePixels, MaxBytes: cfg.MaxImageBytes})
	imgs := images.New(d, store, renderer, log, cfg.MaxImageBytes, renderer.Limits().MaxConcurrent)
	svc.Hooks = append(svc.Hooks, imgs)
	tusH, err := tus.New(tus.Config{
		BasePath: "/uploads/", PublicURL: cfg.PublicURL, Composer: store.Composer(),
		Uploads: svc, MaxSize: cfg.MaxUploadSize, Log: log,
	})
	if err != nil {
		d.Close()
		return nil, err
	}
	reg.MustRegister(prometheuscollector.New(tusH.Metrics()))

	gopts := graph.Options{
		Introspection: cfg.Introspection, Log: log,
		MaxBodyBytes: cfg.GraphQL.MaxBodyBytes, MaxDocumentBytes: int(cfg.GraphQL.MaxDocumentBytes),
		MaxTokens: cfg.GraphQL.MaxTokens, MaxFields: cfg.GraphQL.MaxFields, MaxAliases: cfg.GraphQL.MaxAliases,
		MaxFieldPairs: cfg.GraphQL.MaxFieldPairs, DepthLimit: cfg.GraphQL.MaxDepth,
		ComplexityLimit: cfg.GraphQL.MaxComplexity, AnonymousComplexityLimit: cfg.GraphQL.MaxComplexityAnonymous,
	}
	if err := gopts.Validate(); err != nil {
		d.Close()
		return nil, fmt.Errorf("graphql: %w", err)
	}
	gql := graph.NewHandler(&graph.Resolver{Uploads: svc, Auth: authSvc, Images: imgs, Log: log}, gopts)
	authMW := authSvc.Middleware(apperr.WriteJSON)
	gqlAuthMW := authSvc.Middleware(graph.WriteError)

	mux := http.NewServeMux()
	if cfg.Playground {
		pg, err := playground.New("/graphql")
		if err != nil {
			d.Close()
			return nil, err
		}
		pg.Register(mux)
	}
	// Bodies on the routes other than tus: idle and slow ones are cut, and
	// only so many are read at once (tusd bounds its own).
	bodies := &httpapi.BodyLimits{Idle: cfg.BodyIdleTimeout, Readers: cfg.MaxBodyReaders}
	mux.Handle("/graphql", bodies.Wrap(gqlAuthMW(gql)))
	tusRoute := tus.Resumable(authMW(tusH))
	mux.Handle("/uploads/", tusRoute)
	mux.Handle("/uploads", tusRoute)
	api := &httpapi.API{Uploads: svc, Images: imgs}
	fileRoutes := http.NewServeMux()
	api.Register(fileRoutes)
	mux.Handle("/files/", bodies.Wrap(authMW(fileRoutes)))
	(&httpapi.Ops{
		Registry: reg, MetricsToken: cfg.MetricsToken,
		Checks: map[string]httpapi.Pinger{
			"database": httpapi.PingFunc(d.PingContext),
			"storage":  store,
		},
	}).Register(mux)
	httpapi.RegisterFallbacks(mux)
	return &app{handler: reqlog.Middleware(log, httpapi.Recover(httpapi.CleanPaths(httpapi.CORS(mux)))), uploads: svc, images: imgs, tus: tusH, db: d, statements: statements}, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load("satchel serve", args, getenv, stderr)
	if err != nil {
		return err
	}
	log := cfg.Logger(stderr)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	a, err := build(ctx, cfg, log, getenv, stdout)
	if err != nil {
		return err
	}
	defer a.db.Close()

	// Repair before serving: an upload whose bytes completed before a crash
	// becomes a File exactly once.
	if n, err := a.uploads.Reconcile(ctx); err != nil {
		log.Error("reconcile at start-up", "err", err)
	} else if n > 0 {
		log.Info("reconciled uploads at start-up", "finished", n)
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	serverCtx, cancelServer := context.WithCancelCause(context.Background())
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return serverCtx },
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// On shutdown, interrupt uploads so tusd saves what it has: they stay resumable.
	srv.RegisterOnShutdown(func() { cancelServer(tusdhandler.ErrServerShutdown) })

	jobsCtx, stopJobs := context.WithCancel(context.Background())
	jobsDone := make(chan struct{})
	go func() {
		defer close(jobsDone)
		maintain(jobsCtx, a, cfg.MaintenanceInterval, log)
	}()
	// Renders run after commits, on a pool as wide as the machine.
	rendersDone := make(chan struct{})
	go func() { defer close(rendersDone); a.images.Run(jobsCtx, runtime.NumCPU()) }()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("satchel listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL, "data_dir", cfg.DataDir)
	fmt.Fprintf(stderr, "satchel listening on http://%s\n", ln.Addr())

	select {
	case err := <-errc:
		stopJobs()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	stopJobs()
	<-jobsDone
	<-rendersDone
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// maintain runs the reconciler, the sweeper and the render-job requeue
// every interval.
func maintain(ctx context.Context, a *app, every time.Duration, log *slog.Logger) {
	svc := a.uploads
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := svc.Reconcile(ctx); err != nil && ctx.Err() == nil {
			log.Error("reconcile", "err", err)
		} else if n > 0 {
			log.Info("reconciled uploads", "finished", n)
		}
		if n, err := svc.Sweep(ctx); err != nil && ctx.Err() == nil {
			log.Error("sweep", "err", err)
		} else if n > 0 {
			log.Info("swept expired uploads", "count", n)
		}
		if n, err := a.images.Requeue(ctx); err != nil && ctx.Err() == nil {
			log.Error("requeue render jobs", "err", err)
		} else if n > 0 {
			log.Info("requeued render jobs", "count", n)
			a.images.Wake()
		}
	}
}
