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

	"aftersale/internal/httpapi"
)

const serveUsage = `usage: aftersale serve [flags]

Serves the JSON API (docs/api.md): OpenAPI at /openapi.json, docs at /docs.
Every flag has an environment equivalent; a flag given wins over it.

`

// serveOptions are serve's settings after flags and environment.
type serveOptions struct {
	addr, db, keysFile, keys string
	sandbox                  bool
	logLevel                 string
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
	fs.StringVar(&o.keysFile, "api-keys-file", env("AFTERSALE_API_KEYS_FILE", ""), "file of role:key lines (roles platform, operator) (env AFTERSALE_API_KEYS_FILE)")
	fs.StringVar(&o.logLevel, "log-level", env("AFTERSALE_LOG_LEVEL", "info"), "debug, info, warn or error (env AFTERSALE_LOG_LEVEL)")
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
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	err = httpapi.Run(ctx, httpapi.RunConfig{Addr: o.addr, DB: o.db, Sandbox: o.sandbox, Keys: keys, Logger: log})
	if err != nil {
		log.Error("serve failed", "err", err)
		return 1
	}
	return 0
}
