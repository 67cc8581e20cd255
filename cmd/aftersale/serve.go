package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"aftersale/internal/auth"
	"aftersale/internal/demo"
	"aftersale/internal/httpapi"
)

const serveUsage = `usage: aftersale serve [flags]

Serves the JSON API (docs/api.md): OpenAPI at /openapi.json, docs at /docs.
Every flag has an environment equivalent; a flag given wins over it.
People sign in with POST /v1/sessions; create the first logins with the
operator key (POST /v1/people). The --session-* and --login-* flags bound
their sessions and sign-in attempts.

`

// serveOptions are serve's settings after flags and environment.
type serveOptions struct {
	addr, db, keysFile, keys string
	sandbox                  bool
	logLevel                 string
	// demo fills an empty store with a demo marketplace at start.
	demo bool
	// metricsAddr: "" serves /metrics on addr, "off" nowhere, else its own listener.
	metricsAddr     string
	shutdownTimeout time.Duration
	// people's sessions (docs/api.md, "Authentication")
	sessionIdle, sessionMax time.Duration
	loginMaxFailures        int
	loginFailureWindow      time.Duration
	hashMemoryMiB           int           // argon2id's memory budget (auth.Gate)
	hashWait                time.Duration // how long a password check waits for it
	idemRetention           time.Duration
	uploadGrace             time.Duration // unattached evidence uploads are removed after it
	// replicas (docs/replicas.md)
	policyFiles  []string
	webhookLease time.Duration
	timers       bool
	// the network edge: timeouts, proxies, cookies, webhook addresses (serve_net.go)
	net netOptions
}

// parseServe reads serve's flags over the AFTERSALE_* environment.
func parseServe(args []string, getenv func(string) string, stderr io.Writer) (serveOptions, error) {
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	var o serveOptions
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", env("AFTERSALE_ADDR", "127.0.0.1:8080"), "listen address (env AFTERSALE_ADDR)")
	dbDef := env("AFTERSALE_DATABASE_URL", env("AFTERSALE_DB", "aftersale.db"))
	fs.StringVar(&o.db, "db", dbDef, "SQLite file, or a postgres:// URL for PostgreSQL (env AFTERSALE_DATABASE_URL or AFTERSALE_DB)")
	sandboxDef, _ := strconv.ParseBool(env("AFTERSALE_SANDBOX", "false"))
	fs.BoolVar(&o.sandbox, "sandbox", sandboxDef, "run on a manual clock starting at the real now, moved by POST /v1/sandbox/clock/advance (env AFTERSALE_SANDBOX)")
	demoDef, _ := strconv.ParseBool(env("AFTERSALE_DEMO", "false"))
	fs.BoolVar(&o.demo, "demo", demoDef, "on an empty store, first fill in a demo marketplace (shops, people with demo passwords, orders, tasks in every state); a store with data is left alone (env AFTERSALE_DEMO)")
	fs.StringVar(&o.metricsAddr, "metrics-addr", env("AFTERSALE_METRICS_ADDR", ""),
		"where GET /metrics is served: empty = on --addr beside the API, to an API key only; host:port = its own listener only, no key; off = nowhere (env AFTERSALE_METRICS_ADDR)")
	fs.StringVar(&o.keysFile, "api-keys-file", env("AFTERSALE_API_KEYS_FILE", ""), "file of role:key lines (roles platform, operator) (env AFTERSALE_API_KEYS_FILE)")
	fs.StringVar(&o.logLevel, "log-level", env("AFTERSALE_LOG_LEVEL", "info"), "debug, info, warn or error (env AFTERSALE_LOG_LEVEL)")
	var envErr error
	dur := func(k string, def time.Duration) time.Duration {
		if v := getenv(k); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil && envErr == nil {
				envErr = fmt.Errorf("%s=%q: want a duration such as 30m or 12h", k, v)
			}
			return d
		}
		return def
	}
	fs.DurationVar(&o.sessionIdle, "session-idle", dur("AFTERSALE_SESSION_IDLE", auth.DefaultLifetimes.Idle),
		"a signed-in person's session ends this long after its last request (env AFTERSALE_SESSION_IDLE)")
	fs.DurationVar(&o.sessionMax, "session-max", dur("AFTERSALE_SESSION_MAX", auth.DefaultLifetimes.Absolute),
		"a session ends this long after sign-in, however busy (env AFTERSALE_SESSION_MAX)")
	maxFail, _ := strconv.Atoi(env("AFTERSALE_LOGIN_MAX_FAILURES", "5"))
	fs.IntVar(&o.loginMaxFailures, "login-max-failures", maxFail,
		"failed sign-ins (and wrong current passwords) from one client address within --login-failure-window before that address answers 429; other addresses still sign in (env AFTERSALE_LOGIN_MAX_FAILURES)")
	fs.DurationVar(&o.loginFailureWindow, "login-failure-window", dur("AFTERSALE_LOGIN_FAILURE_WINDOW", 15*time.Minute),
		"the window failed sign-ins are counted in (env AFTERSALE_LOGIN_FAILURE_WINDOW)")
	hashMem, _ := strconv.Atoi(env("AFTERSALE_HASH_MEMORY_MIB", strconv.Itoa(auth.DefaultHashMemory>>20)))
	fs.IntVar(&o.hashMemoryMiB, "hash-memory-mib", hashMem,
		"MiB password hashing (argon2id, 19 MiB a check) may hold at once, over all requests; checks past it wait --hash-wait, then 429 (env AFTERSALE_HASH_MEMORY_MIB)")
	fs.DurationVar(&o.hashWait, "hash-wait", dur("AFTERSALE_HASH_WAIT", auth.DefaultHashWait),
		"how long a password check waits for room before 429 auth.busy (env AFTERSALE_HASH_WAIT)")
	fs.DurationVar(&o.idemRetention, "idempotency-retention", dur("AFTERSALE_IDEMPOTENCY_RETENTION", 24*time.Hour),
		"how long an Idempotency-Key is remembered at least; older keys are purged hourly (env AFTERSALE_IDEMPOTENCY_RETENTION)")
	fs.DurationVar(&o.uploadGrace, "upload-grace", dur("AFTERSALE_UPLOAD_GRACE", httpapi.DefaultUploadGrace),
		"an evidence upload never attached to evidence is removed this long after it was uploaded, by an hourly sweep (env AFTERSALE_UPLOAD_GRACE)")
	addReplicaFlags(fs, &o, getenv, dur)
	addNetFlags(fs, &o.net, getenv, dur)
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", dur("AFTERSALE_SHUTDOWN_TIMEOUT", 20*time.Second),
		"on SIGINT/SIGTERM, how long in-flight requests may take to finish (env AFTERSALE_SHUTDOWN_TIMEOUT)")
	o.keys = getenv("AFTERSALE_API_KEYS")
	fs.Usage = func() {
		fmt.Fprint(stderr, serveUsage)
		fs.PrintDefaults()
		fmt.Fprint(stderr, "\nEnvironment only:\n  AFTERSALE_API_KEYS   role:key pairs separated by commas, e.g. platform:KEY1,operator:KEY2\n")
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if envErr != nil {
		fmt.Fprintln(stderr, envErr)
		return o, envErr
	}
	if o.uploadGrace < time.Minute {
		err := fmt.Errorf("--upload-grace %s: want at least 1m", o.uploadGrace)
		fmt.Fprintln(stderr, err)
		return o, err
	}
	if o.idemRetention < time.Minute {
		err := fmt.Errorf("--idempotency-retention %s: want at least 1m", o.idemRetention)
		fmt.Fprintln(stderr, err)
		return o, err
	}
	if err := checkReplicaFlags(o, stderr); err != nil {
		return o, err
	}
	if err := checkNetFlags(&o.net, stderr); err != nil {
		return o, err
	}
	if o.shutdownTimeout <= 0 {
		err := fmt.Errorf("--shutdown-timeout %s: want a positive duration", o.shutdownTimeout)
		fmt.Fprintln(stderr, err)
		return o, err
	}
	if o.sessionIdle <= 0 || o.sessionMax < o.sessionIdle || o.loginMaxFailures < 1 || o.loginFailureWindow <= 0 {
		err := fmt.Errorf("sessions: want 0 < --session-idle (%s) <= --session-max (%s), --login-max-failures >= 1 (%d), --login-failure-window > 0 (%s)",
			o.sessionIdle, o.sessionMax, o.loginMaxFailures, o.loginFailureWindow)
		fmt.Fprintln(stderr, err)
		return o, err
	}
	if o.hashMemoryMiB < 1 || o.hashWait <= 0 {
		err := fmt.Errorf("password hashing: want --hash-memory-mib >= 1 (%d), --hash-wait > 0 (%s)", o.hashMemoryMiB, o.hashWait)
		fmt.Fprintln(stderr, err)
		return o, err
	}
	return o, nil
}

// loadKeys reads the configured API keys; with none, it makes one platform
// and one operator key and prints them once to stderr.
func loadKeys(o serveOptions, stderr io.Writer) ([]httpapi.Key, error) {
	var keys []httpapi.Key
	if o.keysFile != "" {
		b, err := os.ReadFile(o.keysFile)
		if err != nil {
			return nil, err
		}
		ks, err := httpapi.ParseKeys(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.keysFile, err)
		}
		keys = append(keys, ks...)
	}
	if o.keys != "" {
		ks, err := httpapi.ParseKeys(o.keys)
		if err != nil {
			return nil, fmt.Errorf("AFTERSALE_API_KEYS: %w", err)
		}
		keys = append(keys, ks...)
	}
	if len(keys) > 0 {
		return keys, nil
	}
	p, op := httpapi.GenerateSecret(httpapi.RolePlatform), httpapi.GenerateSecret(httpapi.RoleOperator)
	fmt.Fprintf(stderr, `
No API keys configured (--api-keys-file or AFTERSALE_API_KEYS), so these were generated
for this run only. They are shown ONCE and kept only as their SHA-256; they stop working
when the process ends. To keep keys across restarts, pass them in AFTERSALE_API_KEYS.

  platform key:  %s
  operator key:  %s

  AFTERSALE_API_KEYS=platform:%s,operator:%s

`, p, op, p, op)
	return []httpapi.Key{httpapi.NewKey(httpapi.RolePlatform, p), httpapi.NewKey(httpapi.RoleOperator, op)}, nil
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseServe(args, os.Getenv, stderr)
	if err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(strings.ToUpper(o.logLevel))); err != nil {
		fmt.Fprintf(stderr, "aftersale serve: --log-level %q: want debug, info, warn or error\n", o.logLevel)
		return 2
	}
	keys, err := loadKeys(o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "aftersale serve: %v\n", err)
		return 2
	}
	reg, err := loadPolicy(o.policyFiles, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "aftersale serve: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	if o.demo {
		if err := seedDemo(ctx, o.db, log, stderr); err != nil {
			log.Error("demo seeding failed", "err", err)
			return 1
		}
	}
	err = httpapi.Run(ctx, httpapi.RunConfig{Addr: o.addr, DB: o.db, Sandbox: o.sandbox, Keys: keys, Logger: log,
		Policy: reg, WebhookLease: o.webhookLease, NoTimers: !o.timers, MetricsAddr: o.metricsAddr, ShutdownTimeout: o.shutdownTimeout,
		Sessions: httpapi.SessionConfig{Lifetimes: auth.Lifetimes{Idle: o.sessionIdle, Absolute: o.sessionMax},
			MaxFailures: o.loginMaxFailures, FailureWindow: o.loginFailureWindow,
			HashMemory: int64(o.hashMemoryMiB) << 20, HashWait: o.hashWait},
		IdempotencyRetention: o.idemRetention,
		UploadGrace:          o.uploadGrace,
		ReadHeaderTimeout:    o.net.readHeaderTimeout, BodyTimeout: o.net.bodyTimeout, WriteTimeout: o.net.writeTimeout, IdleTimeout: o.net.idleTimeout,
		Proxy:        httpapi.ProxyConfig{CookieSecure: o.net.cookie, TrustedProxies: o.net.proxies},
		WebhookAllow: o.net.allow})
	if err != nil {
		log.Error("serve failed", "err", err)
		return 1
	}
	return 0
}

// seedDemo fills an empty store with the demo marketplace (internal/demo)
// and prints its logins once; a store with data is left as it is.
func seedDemo(ctx context.Context, db string, log *slog.Logger, stderr io.Writer) error {
	st, err := httpapi.OpenStore(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := demo.Seed(ctx, demo.Config{Store: st, Logger: log})
	if err != nil {
		return err
	}
	if !res.Seeded {
		log.Info("--demo: the store is not empty, so no demo data was added", "db", db, "why", res.Why)
		return nil
	}
	log.Info("--demo: demo marketplace seeded", "db", db, "facts", res.Facts, "tasks", res.Tasks, "people", res.People, "timers_fired", res.Fired)
	fmt.Fprintf(stderr, "\nDemo marketplace seeded (DEMO ONLY: these logins share a published password).\nSign in with POST /v1/sessions {\"login\": …, \"password\": %q}:\n\n", demo.Password)
	for _, l := range demo.Logins {
		fmt.Fprintf(stderr, "  %-11s %-9s %-10s %s\n", l.Login, l.Role, l.Subject, l.Name)
	}
	fmt.Fprintln(stderr)
	return nil
}
