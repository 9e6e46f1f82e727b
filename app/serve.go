package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	tusdhandler "github.com/tus/tusd/v2/pkg/handler"
)

// Serve repairs what a crash left half done, then serves on ln, with the
// background work beside, until ctx ends; then it shuts down gracefully:
// uploads in flight are interrupted (they stay resumable) and the server
// waits up to the configured shutdown timeout for requests to end.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	log := a.log
	// Repair before serving: an upload whose bytes completed before a crash
	// becomes a File exactly once.
	if n, err := a.Uploads.Reconcile(ctx); err != nil {
		log.Error("reconcile at start-up", "err", err)
	} else if n > 0 {
		log.Info("reconciled uploads at start-up", "finished", n)
	}
	serverCtx, cancelServer := context.WithCancelCause(context.Background())
	srv := &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return serverCtx },
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// On shutdown, interrupt uploads so tusd saves what it has: they stay resumable.
	srv.RegisterOnShutdown(func() { cancelServer(tusdhandler.ErrServerShutdown) })

	workCtx, stopWork := context.WithCancel(context.Background())
	workDone := make(chan struct{})
	go func() { defer close(workDone); a.Run(workCtx, runtime.NumCPU()) }()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("satchel listening", "addr", ln.Addr().String(), "public_url", a.Config.PublicURL, "data_dir", a.Config.DataDir)

	select {
	case err := <-errc:
		stopWork()
		<-workDone
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	stopWork()
	<-workDone
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// Run does the background work until ctx ends, and returns once it has
// stopped: renders on renderWorkers workers, and every maintenance interval
// the reconciler, the sweeper and the render-job requeue.
func (a *App) Run(ctx context.Context, renderWorkers int) {
	done := make(chan struct{})
	go func() { defer close(done); a.Images.Run(ctx, renderWorkers) }()
	defer func() { <-done }()
	t := time.NewTicker(a.Config.MaintenanceInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a.maintain(ctx)
	}
}

func (a *App) maintain(ctx context.Context) {
	log := a.log
	if n, err := a.Uploads.Reconcile(ctx); err != nil && ctx.Err() == nil {
		log.Error("reconcile", "err", err)
	} else if n > 0 {
		log.Info("reconciled uploads", "finished", n)
	}
	if n, err := a.Uploads.Sweep(ctx); err != nil && ctx.Err() == nil {
		log.Error("sweep", "err", err)
	} else if n > 0 {
		log.Info("swept expired uploads", "count", n)
	}
	if n, err := a.Images.Requeue(ctx); err != nil && ctx.Err() == nil {
		log.Error("requeue render jobs", "err", err)
	} else if n > 0 {
		log.Info("requeued render jobs", "count", n)
		a.Images.Wake()
	}
}
