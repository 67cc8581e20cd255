// Command aftersale is the platform after-sales task centre (平台售后任务).
//
// Usage:
//
//	aftersale replay FILE.yaml        replay a scenario and print the result as JSON
//	aftersale policy check FILE...    validate policy files, naming every error's path
//	aftersale policy show --platform P [--at TIME]   print the rules in force
//	aftersale migrate [--db PATH]     create or upgrade the SQLite store
//	aftersale serve [--addr A] [--db PATH|URL] [--sandbox] [--demo]   serve the JSON API
//	aftersale loadgen --key KEY [--target URL] [--duration D]   load a running server
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"aftersale/internal/policy"
	"aftersale/internal/sim"
	"aftersale/internal/store/sqlite"
)

const usage = `aftersale — platform after-sales task centre (平台售后任务)

Usage:
  aftersale replay FILE.yaml [--check]       replay a scenario on a manual clock; print tasks,
                                             histories, timers, outbox and refusals as JSON
  aftersale policy check FILE...             validate policy files (every error with its path)
  aftersale policy show --platform P [--at T] print the rules in force for a platform at a time
  aftersale migrate [--db PATH]              create or upgrade the SQLite store
  aftersale serve [flags]                    serve the JSON API (docs/api.md); flags: --addr,
                                             --db (file or postgres:// URL), --sandbox,
                                             --api-keys-file, --demo (fill an empty store with a
                                             demo marketplace); aftersale serve -h for all
  aftersale loadgen --key KEY [flags]        drive a running server with a marketplace mix and
                                             print throughput and latency percentiles
  aftersale help                             this text

Environment:
  AFTERSALE_DB   SQLite file for migrate (default aftersale.db)
  AFTERSALE_ADDR, AFTERSALE_DATABASE_URL, AFTERSALE_SANDBOX, AFTERSALE_DEMO, AFTERSALE_API_KEYS,
  AFTERSALE_API_KEYS_FILE, AFTERSALE_LOG_LEVEL, AFTERSALE_METRICS_ADDR, AFTERSALE_SHUTDOWN_TIMEOUT,
  AFTERSALE_SESSION_*, AFTERSALE_LOGIN_*, AFTERSALE_*_TIMEOUT, AFTERSALE_COOKIE_SECURE,
  AFTERSALE_TRUSTED_PROXIES, AFTERSALE_WEBHOOK_ALLOW   serve's settings (flags win; docs/config.md)
  AFTERSALE_LOADGEN_TARGET, AFTERSALE_LOADGEN_KEY   loadgen's target and platform key
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "replay":
		return runReplay(ctx, args[1:], stdout, stderr)
	case "policy":
		if len(args) < 2 {
			fmt.Fprint(stderr, "usage: aftersale policy check FILE... | aftersale policy show --platform P [--at TIME]\n")
			return 2
		}
		switch args[1] {
		case "check":
			return policy.RunCheck(args[2:], stdout, stderr)
		case "show":
			return policy.RunShow(args[2:], stdout, stderr)
		}
		fmt.Fprintf(stderr, "aftersale policy: unknown subcommand %q (check, show)\n", args[1])
		return 2
	case "migrate":
		return runMigrate(ctx, args[1:], stdout, stderr)
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "loadgen":
		return runLoadgen(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "aftersale: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	check := fs.Bool("check", false, "exit 1 when an expectation in the scenario fails")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: aftersale replay FILE.yaml [--check]\n\nReplays the scenario (format: docs/scenarios.md) and prints JSON.\n")
		fs.PrintDefaults()
	}
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(files) != 1 {
		fs.Usage()
		return 2
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		fmt.Fprintf(stderr, "aftersale replay: %v\n", err)
		return 1
	}
	sc, err := sim.Parse(data)
	if err != nil {
		fmt.Fprintf(stderr, "aftersale replay: %s: %v\n", files[0], err)
		return 1
	}
	reg, err := policy.Default()
	if err != nil {
		fmt.Fprintf(stderr, "aftersale replay: policy: %v\n", err)
		return 1
	}
	out, err := sim.Run(ctx, sc, reg)
	if err != nil {
		fmt.Fprintf(stderr, "aftersale replay: %s: %v\n", files[0], err)
		return 1
	}
	b, err := out.JSON()
	if err != nil {
		fmt.Fprintf(stderr, "aftersale replay: %v\n", err)
		return 1
	}
	stdout.Write(b)
	if len(out.Failed) > 0 {
		for _, f := range out.Failed {
			fmt.Fprintf(stderr, "expectation failed: %s\n", f)
		}
		if *check {
			return 1
		}
	}
	return 0
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := os.Getenv("AFTERSALE_DB")
	if def == "" {
		def = "aftersale.db"
	}
	db := fs.String("db", def, "SQLite file to create or upgrade (env AFTERSALE_DB)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	st, err := sqlite.Open(ctx, *db)
	if err != nil {
		fmt.Fprintf(stderr, "aftersale migrate: %v\n", err)
		return 1
	}
	defer st.Close()
	fmt.Fprintf(stdout, "%s: schema up to date\n", *db)
	return 0
}

// parseInterspersed parses flags that may come before or after positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
