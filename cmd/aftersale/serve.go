package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
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
	logLvl                   slog.Level // logLevel parsed
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

// parseServe reads serve's flags over the AFTERSALE_* environment. Every
// value that does not parse or is out of range is reported at once, each on
// its own line naming its variable or flag.
func parseServe(args []string, getenv func(string) string, stderr io.Writer) (serveOptions, error) {
	var o serveOptions
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	s := &settings{fs: fs, getenv: getenv}
	s.stringVar(&o.addr, "addr", "AFTERSALE_ADDR", "127.0.0.1:8080", "listen address (env AFTERSALE_ADDR)")
	s.stringVar(&o.db, "db", "AFTERSALE_DATABASE_URL", cmp.Or(getenv("AFTERSALE_DB"), "aftersale.db"),
		"SQLite file, or a postgres:// URL for PostgreSQL (env AFTERSALE_DATABASE_URL or AFTERSALE_DB)")
	s.boolVar(&o.sandbox, "sandbox", "AFTERSALE_SANDBOX", false,
		"run on a manual clock starting at the real now, moved by POST /v1/sandbox/clock/advance (env AFTERSALE_SANDBOX)")
	s.boolVar(&o.demo, "demo", "AFTERSALE_DEMO", false,
		"on an empty store, first fill in a demo marketplace (shops, people with demo passwords, orders, tasks in every state); a store with data is left alone (env AFTERSALE_DEMO)")
	s.stringVar(&o.metricsAddr, "metrics-addr", "AFTERSALE_METRICS_ADDR", "",
		"where GET /metrics is served: empty = on --addr beside the API, to an API key only; host:port = its own listener only, no key; off = nowhere (env AFTERSALE_METRICS_ADDR)")
	s.stringVar(&o.keysFile, "api-keys-file", "AFTERSALE_API_KEYS_FILE", "", "file of role:key lines (roles platform, operator) (env AFTERSALE_API_KEYS_FILE)")
	s.stringVar(&o.logLevel, "log-level", "AFTERSALE_LOG_LEVEL", "info", "debug, info, warn or error (env AFTERSALE_LOG_LEVEL)")
	s.durationVar(&o.sessionIdle, "session-idle", "AFTERSALE_SESSION_IDLE", auth.DefaultLifetimes.Idle,
		"a signed-in person's session ends this long after its last request (env AFTERSALE_SESSION_IDLE)")
	s.durationVar(&o.sessionMax, "session-max", "AFTERSALE_SESSION_MAX", auth.DefaultLifetimes.Absolute,
		"a session ends this long after sign-in, however busy (env AFTERSALE_SESSION_MAX)")
	s.intVar(&o.loginMaxFailures, "login-max-failures", "AFTERSALE_LOGIN_MAX_FAILURES", 5,
		"failed sign-ins (and wrong current passwords) from one client address within --login-failure-window before that address answers 429; other addresses still sign in (env AFTERSALE_LOGIN_MAX_FAILURES)")
	s.durationVar(&o.loginFailureWindow, "login-failure-window", "AFTERSALE_LOGIN_FAILURE_WINDOW", 15*time.Minute,
		"the window failed sign-ins are counted in (env AFTERSALE_LOGIN_FAILURE_WINDOW)")
	s.intVar(&o.hashMemoryMiB, "hash-memory-mib", "AFTERSALE_HASH_MEMORY_MIB", auth.DefaultHashMemory>>20,
		"MiB password hashing (argon2id, 19 MiB a check) may hold at once, over all requests; checks past it wait --hash-wait, then 429 (env AFTERSALE_HASH_MEMORY_MIB)")
	s.durationVar(&o.hashWait, "hash-wait", "AFTERSALE_HASH_WAIT", auth.DefaultHashWait,
		"how long a password check waits for room before 429 auth.busy (env AFTERSALE_HASH_WAIT)")
	s.durationVar(&o.idemRetention, "idempotency-retention", "AFTERSALE_IDEMPOTENCY_RETENTION", 24*time.Hour,
		"how long an Idempotency-Key is remembered at least; older keys are purged hourly (env AFTERSALE_IDEMPOTENCY_RETENTION)")
	s.durationVar(&o.uploadGrace, "upload-grace", "AFTERSALE_UPLOAD_GRACE", httpapi.DefaultUploadGrace,
		"an evidence upload never attached to evidence is removed this long after it was uploaded, by an hourly sweep (env AFTERSALE_UPLOAD_GRACE)")
	addReplicaFlags(s, &o)
	addNetFlags(s, &o.net)
	s.durationVar(&o.shutdownTimeout, "shutdown-timeout", "AFTERSALE_SHUTDOWN_TIMEOUT", 20*time.Second,
		"on SIGINT/SIGTERM, how long in-flight requests may take to finish (env AFTERSALE_SHUTDOWN_TIMEOUT)")
	o.keys = getenv("AFTERSALE_API_KEYS")
	fs.Usage = func() {
		fmt.Fprint(stderr, serveUsage)
		s.printDefaults(stderr)
		fmt.Fprint(stderr, "\nEnvironment only:\n  AFTERSALE_API_KEYS   role:key pairs separated by commas, e.g. platform:KEY1,operator:KEY2\n")
	}
	if err := s.parse(args); err != nil {
		return o, err
	}
	if err := o.logLvl.UnmarshalText([]byte(strings.ToUpper(o.logLevel))); err != nil {
		s.fail(fmt.Errorf("--log-level %q: want debug, info, warn or error", o.logLevel))
	}
	if o.uploadGrace < time.Minute {
		s.fail(fmt.Errorf("--upload-grace %s: want at least 1m", o.uploadGrace))
	}
	if o.idemRetention < time.Minute {
		s.fail(fmt.Errorf("--idempotency-retention %s: want at least 1m", o.idemRetention))
	}
	checkReplicaFlags(s, o)
	checkNetFlags(s, &o.net)
	if o.shutdownTimeout <= 0 {
		s.fail(fmt.Errorf("--shutdown-timeout %s: want a positive duration", o.shutdownTimeout))
	}
	if o.sessionIdle <= 0 {
		s.fail(fmt.Errorf("--session-idle %s: want a positive duration", o.sessionIdle))
	}
	if o.sessionMax < o.sessionIdle {
		s.fail(fmt.Errorf("--session-max %s: want at least --session-idle (%s)", o.sessionMax, o.sessionIdle))
	}
	if o.loginMaxFailures < 1 {
		s.fail(fmt.Errorf("--login-max-failures %d: want at least 1", o.loginMaxFailures))
	}
	if o.loginFailureWindow <= 0 {
		s.fail(fmt.Errorf("--login-failure-window %s: want a positive duration", o.loginFailureWindow))
	}
	if o.hashMemoryMiB < 1 {
		s.fail(fmt.Errorf("--hash-memory-mib %d: want at least 1", o.hashMemoryMiB))
	}
	if o.hashWait <= 0 {
		s.fail(fmt.Errorf("--hash-wait %s: want a positive duration", o.hashWait))
	}
	return o, s.err(stderr)
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
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: o.logLvl}))
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
