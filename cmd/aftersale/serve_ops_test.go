package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aftersale/internal/demo"
)

// The operations flags (docs/config.md): --demo, --metrics-addr and
// --shutdown-timeout read AFTERSALE_DEMO, AFTERSALE_METRICS_ADDR and
// AFTERSALE_SHUTDOWN_TIMEOUT; a flag wins; a bad or non-positive timeout is refused.
func TestServeOpsFlagsAndEnv(t *testing.T) {
	env := map[string]string{"AFTERSALE_DEMO": "true", "AFTERSALE_METRICS_ADDR": "127.0.0.1:9090", "AFTERSALE_SHUTDOWN_TIMEOUT": "45s"}
	getenv := func(k string) string { return env[k] }
	o, err := parseServe(nil, getenv, io.Discard)
	if err != nil || !o.demo || o.metricsAddr != "127.0.0.1:9090" || o.shutdownTimeout != 45*time.Second {
		t.Fatalf("from env: %+v %v", o, err)
	}
	o, err = parseServe([]string{"--demo=false", "--metrics-addr", "off", "--shutdown-timeout", "5s"}, getenv, io.Discard)
	if err != nil || o.demo || o.metricsAddr != "off" || o.shutdownTimeout != 5*time.Second {
		t.Fatalf("flags win: %+v %v", o, err)
	}
	o, err = parseServe(nil, func(string) string { return "" }, io.Discard)
	if err != nil || o.demo || o.metricsAddr != "" || o.shutdownTimeout != 20*time.Second {
		t.Fatalf("defaults: %+v %v", o, err)
	}
	for _, args := range [][]string{{"--shutdown-timeout", "0s"}, {"--shutdown-timeout", "-1s"}} {
		if _, err := parseServe(args, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("parseServe(%q) accepted", args)
		}
	}
	if _, err := parseServe(nil, func(k string) string { return map[string]string{"AFTERSALE_SHUTDOWN_TIMEOUT": "soon"}[k] }, io.Discard); err == nil {
		t.Error("AFTERSALE_SHUTDOWN_TIMEOUT=soon accepted")
	}
}

// --demo seeds an empty store once and prints every login with the demo
// password; on the same store again it adds nothing and logs why.
func TestServeDemoSeedsOnce(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	var out, logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	if err := seedDemo(context.Background(), db, log, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), demo.Password) || !strings.Contains(out.String(), "DEMO ONLY") {
		t.Fatalf("no demo password notice:\n%s", out.String())
	}
	for _, l := range demo.Logins {
		if !strings.Contains(out.String(), l.Login) {
			t.Errorf("login %s not printed", l.Login)
		}
	}
	if !strings.Contains(logs.String(), "demo marketplace seeded") {
		t.Errorf("log: %s", logs.String())
	}
	out.Reset()
	logs.Reset()
	if err := seedDemo(context.Background(), db, log, &out); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 || !strings.Contains(logs.String(), "not empty") || !strings.Contains(logs.String(), "tasks") {
		t.Fatalf("second --demo: printed %q, logged %s", out.String(), logs.String())
	}
}
