// Package app is Satchel's wiring root: configuration -> database ->
// migrations -> services -> one http.Handler, and the background work beside
// it. The command (package main) and the end-to-end tests start Satchel
// through it, wired the same way.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/uptrace/bun"

	"satchel/internal/auth"
	"satchel/internal/config"
	"satchel/internal/db"
	"satchel/internal/images"
	"satchel/internal/reqlog"
	"satchel/internal/storage"
	"satchel/internal/storedb"
	"satchel/internal/uploads"
	"satchel/migrations"
	"satchel/transforms"
	"satchel/tus"
)

// App is a wired Satchel: its HTTP handler, and the services behind it for
// the background work and for tests.
type App struct {
	Config  config.Config
	Handler http.Handler
	DB      *bun.DB
	Auth    *auth.Service
	Uploads *uploads.Service
	Images  *images.Service
	Tus     *tus.Handler
	// Statements counts the SQL statements run (satchel_db_statements_total).
	Statements *db.Counter

	log *slog.Logger
}

// OpenDB opens the configured database and applies the migrations.
func OpenDB(ctx context.Context, cfg config.Config, log *slog.Logger) (*bun.DB, error) {
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

// New wires Satchel from cfg: it opens and migrates the database, creates
// the bootstrap account on an empty one (printing its keys once to stdout),
// and builds the services and the handler. Close releases it.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) (*App, error) {
	// Every line logged with a request's context carries its ID.
	log = slog.New(reqlog.Handler(log.Handler()))
	d, err := OpenDB(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	a, err := wire(ctx, cfg, log, stdout, d)
	if err != nil {
		d.Close()
		return nil, err
	}
	return a, nil
}

// storageConfig is the byte store cfg names: the filestore under the data
// dir, or an S3 bucket with its bookkeeping in the database d.
func storageConfig(cfg config.Config, d *bun.DB) storage.Config {
	if cfg.S3 == nil {
		return storage.Config{Kind: "file", Dir: cfg.FilesDir()}
	}
	return storage.Config{Kind: "s3", S3: storage.S3Config{
		Bucket: cfg.S3.Bucket, Endpoint: cfg.S3.Endpoint, Region: cfg.S3.Region, Prefix: cfg.S3.Prefix,
		PartSize: cfg.S3PartSize, IDs: storedb.BackendIDs{DB: d}, States: storedb.Digests{DB: d},
	}}
}

var (
	_ storage.BackendIDs = storedb.BackendIDs{}
	_ storage.HashStates = storedb.Digests{}
)

// Close closes the database.
func (a *App) Close() error { return a.DB.Close() }

func wire(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer, d *bun.DB) (*App, error) {
	a := &App{Config: cfg, DB: d, Statements: new(db.Counter), log: log}
	d.AddQueryHook(a.Statements)
	a.Auth = &auth.Service{DB: d, PublicURL: cfg.PublicURL}
	boot, err := a.Auth.Bootstrap(ctx, cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if boot != nil {
		fmt.Fprintf(stdout, "Created account %s (\"default\"). These keys are shown once and saved to %s/bootstrap-keys.json:\n  public key: %s\n  secret key: %s\n",
			boot.AccountID, cfg.DataDir, boot.PublicKey, boot.SecretKey)
	}
	store, err := storage.Open(storageConfig(cfg, d))
	if err != nil {
		return nil, err
	}
	m := newMetrics(a)
	m.watchSessions(store)
	a.Uploads = &uploads.Service{
		DB: d, Bytes: store, Log: log, PublicURL: cfg.PublicURL,
		MaxUploadSize: cfg.MaxUploadSize, UploadTTL: cfg.UploadTTL,
		StorageQuota: cfg.StorageQuota, MaxPendingUploads: cfg.MaxPendingUploads,
		Observer: m, Limiter: uploads.NewWindowLimiter(),
	}
	installFaults(a.Uploads)
	renderer := transforms.New(transforms.Limits{MaxPixels: cfg.MaxImagePixels, MaxBytes: cfg.MaxImageBytes})
	a.Images = images.New(d, store, renderer, log, cfg.MaxImageBytes, renderer.Limits().MaxConcurrent)
	a.Uploads.Hooks = append(a.Uploads.Hooks, a.Images)
	a.Tus, err = tus.New(tus.Config{
		BasePath: "/uploads/", PublicURL: cfg.PublicURL, Composer: store.Composer(),
		Uploads: a.Uploads, MaxSize: cfg.MaxUploadSize, Log: log,
	})
	if err != nil {
		return nil, err
	}
	m.watch(a)
	if a.Handler, err = a.routes(store, m); err != nil {
		return nil, err
	}
	return a, nil
}
