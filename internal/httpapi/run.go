package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"aftersale/internal/clock"
	"aftersale/internal/engine"
	"aftersale/internal/policy"
	"aftersale/internal/store"
	"aftersale/internal/store/postgres"
	"aftersale/internal/store/sqlite"
	"aftersale/internal/timer"
)

// RunConfig is what Run needs to serve the API.
type RunConfig struct {
	// Addr is the listen address (default 127.0.0.1:8080; port 0 picks a free one).
	Addr string
	// DB is a SQLite file, or a postgres:// (postgresql://) URL for the PostgreSQL store.
	DB string
	// Sandbox runs on a manual clock that starts at the real now and moves
	// only through POST /v1/sandbox/clock/advance.
	Sandbox bool
	Keys    []Key
	Policy  *policy.Registry // default: the embedded policy
	Logger  *slog.Logger
	// Ready, when set, is called with the listening address once connections are accepted.
	Ready func(addr string)
	// ShutdownTimeout bounds how long in-flight requests may take to finish
	// after ctx is done (default 20 s).
	ShutdownTimeout time.Duration
	// Version is the API version in the OpenAPI document.
	Version string
}

// OpenStore opens the store a --db value names: a postgres:// or
// postgresql:// URL selects PostgreSQL, anything else is a SQLite file.
func OpenStore(ctx context.Context, db string) (store.Store, error) {
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		return postgres.Open(ctx, db)
	}
	return sqlite.Open(ctx, db)
}

// Run serves the API until ctx is done, then shuts down gracefully: it stops
// accepting connections, lets in-flight requests finish (up to
// ShutdownTimeout), stops the timer sweeper and closes the store.
func Run(ctx context.Context, c RunConfig) error {
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 20 * time.Second
	}
	reg := c.Policy
	if reg == nil {
		var err error
		if reg, err = policy.Default(); err != nil {
			return fmt.Errorf("policy: %w", err)
		}
	}
	raw, err := OpenStore(ctx, c.DB)
	if err != nil {
		return err
	}
	defer func() {
		if err := raw.Close(); err != nil {
			log.Error("store close failed", "err", err)
		}
	}()
	st := WrapStore(raw, c.Sandbox)

	var clk clock.Clock = clock.Real{}
	var manual *clock.Manual
	if c.Sandbox {
		manual = clock.NewManual(clock.Real{}.Now())
		clk = manual
	}
	eng := engine.New(engine.Config{Store: st, Policy: reg, Clock: clk, Logger: log})
	sw := &timer.Sweeper{Engine: eng, Clock: clk, Log: log}
	eng.SetOnTimerSet(sw.Wake)

	api := New(Config{Engine: eng, Keys: c.Keys, Sandbox: manual, Logger: log, Version: c.Version})
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}

	sweepCtx, stopSweep := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := sw.Run(sweepCtx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("timer sweeper stopped", "err", err)
		}
	}()
	stopSweeper := func() {
		stopSweep()
		wg.Wait()
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	store := "sqlite"
	if _, ok := raw.(*postgres.Store); ok {
		store = "postgres"
	}
	log.Info("aftersale serving", "addr", ln.Addr().String(), "store", store, "sandbox", c.Sandbox, "keys", len(c.Keys))
	if c.Ready != nil {
		c.Ready(ln.Addr().String())
	}

	select {
	case err := <-serveErr:
		stopSweeper()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	api.Drain()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	if err != nil {
		log.Error("shutdown: in-flight requests did not finish", "err", err)
		srv.Close()
	}
	<-serveErr
	stopSweeper()
	log.Info("stopped")
	return err
}
