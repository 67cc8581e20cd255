package httpapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"aftersale/internal/clock"
	"aftersale/internal/engine"
	"aftersale/internal/live"
	"aftersale/internal/metrics"
	"aftersale/internal/policy"
	"aftersale/internal/store"
	"aftersale/internal/store/postgres"
	"aftersale/internal/store/sqlite"
	"aftersale/internal/timer"
	"aftersale/internal/webhook"
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
	// Sessions configures people's sessions and sign-in (defaults when zero;
	// the session clock is always the real one, even in the sandbox).
	Sessions SessionConfig
	// IdempotencyRetention is how long an Idempotency-Key is remembered
	// (at least; keys are purged hourly). Default 24 h.
	IdempotencyRetention time.Duration
	// UploadGrace is how long an evidence upload may stay unattached to
	// evidence before the hourly sweep removes it (DefaultUploadGrace when
	// zero).
	UploadGrace time.Duration
	// WebhookLease is how long a webhook delivery being sent is this
	// replica's (default 1 min): a replica that dies mid-send leaves it to
	// the others that long after (docs/replicas.md).
	WebhookLease time.Duration
	// NoTimers turns this replica's timer sweeper off: it serves the API
	// and sets timers, and other replicas fire them (an API-only replica;
	// docs/replicas.md). At least one replica on the database must fire.
	NoTimers bool
	// MetricsAddr is where GET /metrics is served (Prometheus text format):
	// "" on Addr beside the API, to an API key only (Authorization: Bearer
	// KEY, either role); a host:port for a listener of its own, without a
	// key (and not on Addr); "off" for nowhere.
	MetricsAddr string
	// ReadHeaderTimeout bounds reading a request's headers
	// (DefaultReadHeaderTimeout when zero).
	ReadHeaderTimeout time.Duration
	// BodyTimeout bounds reading a request's body: past it the answer is
	// 408 and the connection closes (DefaultBodyTimeout when zero).
	BodyTimeout time.Duration
	// WriteTimeout bounds writing an answer; each frame of an event stream
	// gets it afresh, so streams live on (DefaultWriteTimeout when zero).
	WriteTimeout time.Duration
	// IdleTimeout is how long a kept-alive connection waits for its next
	// request (DefaultIdleTimeout when zero).
	IdleTimeout time.Duration
	// Proxy says which peers are trusted reverse proxies (X-Forwarded-For,
	// X-Forwarded-Proto) and when cookies are Secure.
	Proxy ProxyConfig
	// WebhookAllow lists the non-public addresses (loopback, private …)
	// webhooks may reach; by default only public addresses.
	WebhookAllow []netip.Prefix
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
// ShutdownTimeout; open event streams are ended), stops the timer sweeper,
// the live hub and the webhook sender, and closes the store.
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
	c.ReadHeaderTimeout = cmp.Or(c.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	c.BodyTimeout = cmp.Or(c.BodyTimeout, DefaultBodyTimeout)
	c.WriteTimeout = cmp.Or(c.WriteTimeout, DefaultWriteTimeout)
	c.IdleTimeout = cmp.Or(c.IdleTimeout, DefaultIdleTimeout)
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
	// Policy versions operators loaded earlier (on this or another replica).
	if n, err := eng.SyncPolicies(ctx); err != nil {
		return err
	} else if n > 0 {
		log.Info("policy versions loaded from the store", "files", n)
	}
	sw := &timer.Sweeper{Engine: eng, Clock: clk, Log: log}
	eng.SetOnTimerSet(sw.Wake)
	sw.Remote, _ = raw.(timer.Listener) // other replicas' timers (PostgreSQL)

	sess := c.Sessions
	sess.Clock = clock.Real{}
	// Live delivery: the SSE hub and the webhook sender wake on every commit.
	// On PostgreSQL, other replicas' commits wake the hub too (LISTEN/NOTIFY).
	var waker *live.PGWaker
	if pg, ok := raw.(*postgres.Store); ok {
		if waker, err = live.NewPGWaker(ctx, pg.Pool(), log); err != nil {
			return err
		}
		eng.OnCommit(waker.Notify)
	}
	hubCfg := live.Config{Store: st, Presence: eng, Logger: log}
	if waker != nil {
		hubCfg.Waker = waker
	}
	hub := live.New(hubCfg)
	wh := webhook.New(webhook.Config{Store: st, Logger: log, Lease: c.WebhookLease, Guard: &webhook.Guard{Allow: c.WebhookAllow}})
	eng.OnCommit(hub.Wake)
	eng.OnCommit(wh.Wake)
	// An idempotent request commits after the engine's write returns (idempotency.go).
	st.OnCommit(hub.Wake)
	st.OnCommit(wh.Wake)
	st.OnCommit(func() { sw.Wake(time.Time{}) })
	if waker != nil {
		st.OnCommit(waker.Notify)
	}
	if err := hub.Init(ctx); err != nil {
		return err
	}

	var met *metrics.Service
	if c.MetricsAddr != "off" {
		met = metrics.New(metrics.Config{Store: st, Clock: clk, Subscribers: hub.Subscribers})
		sw.OnFire = func(r engine.FireResult) { met.ObserveFirings(r.Lateness) }
	}
	api := New(Config{Engine: eng, Keys: c.Keys, Sandbox: manual, Logger: log, Version: c.Version, Live: LiveConfig{Hub: hub, Webhooks: wh}, Sessions: sess, Metrics: met,
		BodyTimeout: c.BodyTimeout, WriteTimeout: c.WriteTimeout, Proxy: c.Proxy})
	var handler http.Handler = api
	if met != nil && c.MetricsAddr == "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", c.Proxy.middleware(withLang(api.authenticate(c.Keys, requireAPIKey(met.Handler())))))
		mux.Handle("/", api)
		handler = mux
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	// The read timeout is a backstop: the API sets each body's deadline
	// (BodyTimeout) and lifts it once the body is read.
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: c.ReadHeaderTimeout, ReadTimeout: c.ReadHeaderTimeout + c.BodyTimeout,
		WriteTimeout: c.WriteTimeout, IdleTimeout: c.IdleTimeout, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	if met != nil && c.MetricsAddr != "" {
		mln, err := net.Listen("tcp", c.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("metrics listener: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", met.Handler())
		msrv := &http.Server{Handler: mux, ReadHeaderTimeout: c.ReadHeaderTimeout, ReadTimeout: c.ReadHeaderTimeout + c.BodyTimeout,
			WriteTimeout: c.WriteTimeout, IdleTimeout: c.IdleTimeout}
		go func() { _ = msrv.Serve(mln) }()
		defer msrv.Close()
		log.Info("metrics serving", "addr", mln.Addr().String())
	}
	// Open streams never finish on their own: end them when shutdown begins.
	srv.RegisterOnShutdown(hub.Close)

	sweepCtx, stopSweep := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	if !c.NoTimers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := sw.Run(sweepCtx); err != nil && !errors.Is(err, context.Canceled) {
				log.Error("timer sweeper stopped", "err", err)
			}
		}()
	}
	runs := map[string]func(context.Context) error{"live hub": hub.Run, "webhook sender": wh.Run, "policy sync": policySync(eng, log),
		"idempotency purge": idempotencyPurge(st, c.IdempotencyRetention, log), "upload sweep": uploadSweep(eng, c.UploadGrace, log)}
	if waker != nil {
		runs["commit notifier"] = waker.Run
	}
	for name, run := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(sweepCtx); err != nil && !errors.Is(err, context.Canceled) {
				log.Error(name+" stopped", "err", err)
			}
		}()
	}
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
	log.Info("aftersale serving", "addr", ln.Addr().String(), "store", store, "sandbox", c.Sandbox, "keys", len(c.Keys), "timers", !c.NoTimers)
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

// policySyncEvery is how often a replica looks for policy versions another
// replica loaded. A version must start in the future, so a replica that
// learns of one a few seconds late still applies it from its start.
const policySyncEvery = 10 * time.Second

// policySync loads, every policySyncEvery, the policy versions other
// replicas stored.
func policySync(eng *engine.Engine, log *slog.Logger) func(context.Context) error {
	return func(ctx context.Context) error {
		t := time.NewTicker(policySyncEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
				if n, err := eng.SyncPolicies(ctx); err != nil {
					log.Error("policy sync failed", "err", err)
				} else if n > 0 {
					log.Info("policy versions loaded from the store", "files", n)
				}
			}
		}
	}
}

// idempotencyPurge deletes, at start and then hourly, the idempotency keys
// older than retention (default 24 h): a retry of a POST after that is a new
// request.
func idempotencyPurge(st store.Store, retention time.Duration, log *slog.Logger) func(context.Context) error {
	if retention <= 0 {
		retention = 24 * time.Hour
	}
	return func(ctx context.Context) error {
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			var n int64
			err := st.Update(ctx, func(tx store.Tx) error {
				var err error
				n, err = tx.PurgeIdempotent(ctx, time.Now().Add(-retention))
				return err
			})
			switch {
			case err != nil && ctx.Err() == nil:
				log.Error("idempotency purge failed", "err", err)
			case n > 0:
				log.Info("idempotency keys purged", "keys", n, "older_than", retention.String())
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
			}
		}
	}
}

// requireAPIKey serves GET /metrics on the API's address to an API key
// only (either role; a person's session is not enough): 401 without a
// valid one, 403 for a person.
func requireAPIKey(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := langOf(r.Context())
		p := principalOf(r.Context())
		switch {
		case p == nil:
			reason := "auth.missing"
			if st, _ := r.Context().Value(authKey{}).(authState); st != authNone {
				reason = "auth.invalid"
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="aftersale"`)
			writeProblem(w, newProblem(http.StatusUnauthorized, "unauthorized", reason, "", lang,
				"GET /metrics on the API's address needs an API key (Authorization: Bearer KEY); or serve it on a private --metrics-addr"))
		case p.Person != nil:
			writeProblem(w, newProblem(http.StatusForbidden, "forbidden", "auth.role", "", lang,
				"GET /metrics is for API keys (platform or operator), not for a person's session"))
		default:
			next.ServeHTTP(w, r)
		}
	})
}
