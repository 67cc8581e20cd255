package main

import (
	"bytes"
	"io"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"aftersale/internal/httpapi"
)

// The network edge's flags (docs/config.md): each reads its AFTERSALE_*
// variable, a flag wins, the defaults are the documented ones, and a bad
// value is refused with a line naming the flag. Every one is in
// docs/config.md with its variable.
func TestServeNetFlagsAndEnv(t *testing.T) {
	none := func(string) string { return "" }
	o, err := parseServe(nil, none, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	n := o.net
	if n.readHeaderTimeout != 10*time.Second || n.bodyTimeout != 30*time.Second || n.writeTimeout != 60*time.Second || n.idleTimeout != 120*time.Second ||
		n.cookie != httpapi.CookieSecureAuto || len(n.proxies) != 0 || len(n.allow) != 0 {
		t.Fatalf("defaults: %+v", n)
	}
	env := map[string]string{"AFTERSALE_BODY_TIMEOUT": "5s", "AFTERSALE_WRITE_TIMEOUT": "2m", "AFTERSALE_IDLE_TIMEOUT": "30s",
		"AFTERSALE_READ_HEADER_TIMEOUT": "3s", "AFTERSALE_COOKIE_SECURE": "always", "AFTERSALE_TRUSTED_PROXIES": "10.0.0.0/8,192.168.1.5",
		"AFTERSALE_WEBHOOK_ALLOW": "127.0.0.0/8"}
	o, err = parseServe(nil, func(k string) string { return env[k] }, io.Discard)
	n = o.net
	if err != nil || n.bodyTimeout != 5*time.Second || n.writeTimeout != 2*time.Minute || n.idleTimeout != 30*time.Second || n.readHeaderTimeout != 3*time.Second ||
		n.cookie != httpapi.CookieSecureAlways || len(n.proxies) != 2 || n.proxies[1] != netip.MustParsePrefix("192.168.1.5/32") ||
		len(n.allow) != 1 || n.allow[0] != netip.MustParsePrefix("127.0.0.0/8") {
		t.Fatalf("from env: %+v %v", n, err)
	}
	o, err = parseServe([]string{"--body-timeout", "1m", "--cookie-secure", "never", "--webhook-allow", "::1"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || o.net.bodyTimeout != time.Minute || o.net.cookie != httpapi.CookieSecureNever || o.net.allow[0] != netip.MustParsePrefix("::1/128") {
		t.Fatalf("flags win: %+v %v", o.net, err)
	}
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"--body-timeout", "0s"}, "--body-timeout"},
		{[]string{"--write-timeout", "-1s"}, "--write-timeout"},
		{[]string{"--idle-timeout", "0s"}, "--idle-timeout"},
		{[]string{"--read-header-timeout", "0s"}, "--read-header-timeout"},
		{[]string{"--cookie-secure", "sometimes"}, "--cookie-secure"},
		{[]string{"--trusted-proxies", "10.0.0.0/40"}, "--trusted-proxies"},
		{[]string{"--webhook-allow", "localhost"}, "--webhook-allow"},
	} {
		var stderr bytes.Buffer
		if _, err := parseServe(tc.args, none, &stderr); err == nil || !strings.Contains(stderr.String(), tc.flag) {
			t.Errorf("parseServe(%q): %v, stderr %q; want refused naming %s", tc.args, err, stderr.String(), tc.flag)
		}
	}
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"read-header-timeout", "body-timeout", "write-timeout", "idle-timeout", "cookie-secure", "trusted-proxies", "webhook-allow"} {
		v := "AFTERSALE_" + strings.ToUpper(strings.ReplaceAll(f, "-", "_"))
		if !bytes.Contains(doc, []byte("| `--"+f+"` | `"+v+"` |")) {
			t.Errorf("docs/config.md has no row for --%s (%s)", f, v)
		}
	}
}
