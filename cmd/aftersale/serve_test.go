package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aftersale/internal/httpapi"
)

// serve's flags default to the AFTERSALE_* environment; a flag given wins.
func TestServeFlagsAndEnv(t *testing.T) {
	env := map[string]string{"AFTERSALE_ADDR": "0.0.0.0:9000", "AFTERSALE_DATABASE_URL": "postgres://db/x", "AFTERSALE_SANDBOX": "true",
		"AFTERSALE_API_KEYS": "platform:pppppppppppppppp"}
	o, err := parseServe(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.addr != "0.0.0.0:9000" || o.db != "postgres://db/x" || !o.sandbox || o.keys != "platform:pppppppppppppppp" {
		t.Fatalf("%+v", o)
	}
	o, err = parseServe([]string{"--addr", "127.0.0.1:0", "--db", "x.db", "--sandbox=false"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || o.addr != "127.0.0.1:0" || o.db != "x.db" || o.sandbox {
		t.Fatalf("%+v %v", o, err)
	}
	o, err = parseServe(nil, func(string) string { return "" }, io.Discard)
	if err != nil || o.addr != "127.0.0.1:8080" || o.db != "aftersale.db" || o.sandbox {
		t.Fatalf("defaults %+v %v", o, err)
	}
}

// Keys come from the file and the environment; with none, one platform and
// one operator key are generated and printed once to stderr.
func TestServeKeys(t *testing.T) {
	var errb bytes.Buffer
	keys, err := loadKeys(serveOptions{}, &errb)
	if err != nil || len(keys) != 2 || keys[0].Role != httpapi.RolePlatform || keys[1].Role != httpapi.RoleOperator {
		t.Fatalf("%v %v", keys, err)
	}
	out := errb.String()
	if strings.Count(out, "platform_") != 2 || strings.Count(out, "operator_") != 2 || !strings.Contains(out, "ONCE") {
		t.Fatalf("generated keys note:\n%s", out)
	}
	file := filepath.Join(t.TempDir(), "keys")
	os.WriteFile(file, []byte("# keys\nplatform:aaaaaaaaaaaaaaaaaaaa\n\noperator:bbbbbbbbbbbbbbbbbbbb\n"), 0o600)
	errb.Reset()
	keys, err = loadKeys(serveOptions{keysFile: file, keys: "operator:cccccccccccccccccccc"}, &errb)
	if err != nil || len(keys) != 3 || errb.Len() != 0 {
		t.Fatalf("%v %v %q", keys, err, errb.String())
	}
	if keys[0] != httpapi.NewKey(httpapi.RolePlatform, "aaaaaaaaaaaaaaaaaaaa") {
		t.Fatal("file key not hashed as expected")
	}
	for _, bad := range []string{"admin:aaaaaaaaaaaaaaaaaaaa", "platform:short", "justakeywithoutrole"} {
		if _, err := loadKeys(serveOptions{keys: bad}, io.Discard); err == nil {
			t.Errorf("%q accepted", bad)
		} else if strings.Contains(err.Error(), "aaaaaaaaaaaa") {
			t.Errorf("error shows the secret: %v", err)
		}
	}
}

// The usage text lists serve.
func TestUsageListsServe(t *testing.T) {
	_, out, _ := runCLI("help")
	if !strings.Contains(out, "aftersale serve") {
		t.Fatalf("usage:\n%s", out)
	}
}

// Session lifetimes, sign-in throttling and the password hashing budget
// come from flags over the AFTERSALE_SESSION_*, AFTERSALE_LOGIN_* and
// AFTERSALE_HASH_* environment; bad values are refused.
func TestServeSessionFlags(t *testing.T) {
	o, err := parseServe(nil, func(string) string { return "" }, io.Discard)
	if err != nil || o.sessionIdle != 30*time.Minute || o.sessionMax != 12*time.Hour || o.loginMaxFailures != 5 || o.loginFailureWindow != 15*time.Minute ||
		o.hashMemoryMiB != 64 || o.hashWait != time.Second {
		t.Fatalf("defaults %+v %v", o, err)
	}
	env := map[string]string{"AFTERSALE_SESSION_IDLE": "10m", "AFTERSALE_SESSION_MAX": "2h", "AFTERSALE_LOGIN_MAX_FAILURES": "3", "AFTERSALE_LOGIN_FAILURE_WINDOW": "1h",
		"AFTERSALE_HASH_MEMORY_MIB": "200", "AFTERSALE_HASH_WAIT": "2s"}
	o, err = parseServe(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil || o.sessionIdle != 10*time.Minute || o.sessionMax != 2*time.Hour || o.loginMaxFailures != 3 || o.loginFailureWindow != time.Hour ||
		o.hashMemoryMiB != 200 || o.hashWait != 2*time.Second {
		t.Fatalf("env %+v %v", o, err)
	}
	o, err = parseServe([]string{"--session-idle", "5m", "--session-max", "1h"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || o.sessionIdle != 5*time.Minute || o.sessionMax != time.Hour {
		t.Fatalf("flags %+v %v", o, err)
	}
	for _, c := range [][]string{{"--session-idle", "2h", "--session-max", "1h"}, {"--session-idle", "0s"}, {"--login-max-failures", "0"}, {"--hash-memory-mib", "0"}, {"--hash-wait", "0s"}} {
		if _, err := parseServe(c, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("%v accepted", c)
		}
	}
	if _, err := parseServe(nil, func(k string) string { return map[string]string{"AFTERSALE_SESSION_IDLE": "soon"}[k] }, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "AFTERSALE_SESSION_IDLE") {
		t.Errorf("bad env accepted: %v", err)
	}
	var help bytes.Buffer
	parseServe([]string{"-h"}, func(string) string { return "" }, &help)
	for _, s := range []string{"AFTERSALE_SESSION_IDLE", "AFTERSALE_SESSION_MAX", "AFTERSALE_LOGIN_MAX_FAILURES", "AFTERSALE_LOGIN_FAILURE_WINDOW", "AFTERSALE_HASH_MEMORY_MIB", "AFTERSALE_HASH_WAIT", "POST /v1/sessions"} {
		if !strings.Contains(help.String(), s) {
			t.Errorf("help does not mention %s", s)
		}
	}
}

// A variable that does not parse is refused, not ignored: serve exits 2 with
// a line naming each bad variable, all of them in one start; good values of
// the same variables are taken, and a flag given wins over a bad variable.
func TestServeBadEnvAllReported(t *testing.T) {
	t.Setenv("AFTERSALE_SANDBOX", "yes please")
	t.Setenv("AFTERSALE_DEMO", "2")
	t.Setenv("AFTERSALE_LOGIN_MAX_FAILURES", "five")
	t.Setenv("AFTERSALE_HASH_MEMORY_MIB", "lots")
	t.Setenv("AFTERSALE_TIMERS", "maybe")
	t.Setenv("AFTERSALE_SESSION_IDLE", "soon")
	code, _, stderr := runCLI("serve", "--db", filepath.Join(t.TempDir(), "x.db"))
	if code != 2 {
		t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr)
	}
	for _, want := range []string{`AFTERSALE_SANDBOX="yes please": want true or false`, `AFTERSALE_DEMO="2": want true or false`,
		`AFTERSALE_LOGIN_MAX_FAILURES="five": want a whole number`, `AFTERSALE_HASH_MEMORY_MIB="lots": want a whole number`,
		`AFTERSALE_TIMERS="maybe": want true or false`, `AFTERSALE_SESSION_IDLE="soon": want a duration`} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %s:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "password hashing") || strings.Contains(stderr, "--login-max-failures 0") {
		t.Errorf("a bad variable is reported as a range error:\n%s", stderr)
	}

	good := map[string]string{"AFTERSALE_SANDBOX": "true", "AFTERSALE_DEMO": "1", "AFTERSALE_LOGIN_MAX_FAILURES": "7", "AFTERSALE_TIMERS": "false"}
	o, err := parseServe(nil, func(k string) string { return good[k] }, io.Discard)
	if err != nil || !o.sandbox || !o.demo || o.loginMaxFailures != 7 || o.timers {
		t.Fatalf("good values: %+v %v", o, err)
	}
	bad := map[string]string{"AFTERSALE_DEMO": "2", "AFTERSALE_LOGIN_MAX_FAILURES": "five"}
	o, err = parseServe([]string{"--demo=false", "--login-max-failures", "4"}, func(k string) string { return bad[k] }, io.Discard)
	if err != nil || o.demo || o.loginMaxFailures != 4 {
		t.Fatalf("a flag given does not win over its bad variable: %+v %v", o, err)
	}
}

// Bad flag values are all reported at once too, each naming its flag, with
// the values out of range.
func TestServeBadFlagsAllReported(t *testing.T) {
	var stderr bytes.Buffer
	_, err := parseServe([]string{"--login-max-failures", "five", "--sandbox=perhaps", "--session-max", "long", "--hash-wait", "0s", "--log-level", "loud"},
		func(string) string { return "" }, &stderr)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{`--login-max-failures "five": want a whole number`, `--sandbox "perhaps": want true or false`,
		`--session-max "long": want a duration`, `--hash-wait 0s: want a positive duration`, `--log-level "loud"`} {
		if !strings.Contains(stderr.String(), want) || !strings.Contains(err.Error(), want) {
			t.Errorf("not reported: %s\nstderr:\n%s", want, stderr.String())
		}
	}
}
