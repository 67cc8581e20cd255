package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"time"

	"aftersale/internal/httpapi"
	"aftersale/internal/netx"
)

// netOptions are serve's settings for the network edge: connection
// timeouts, reverse proxies and cookies, and where webhooks may go
// (docs/config.md, docs/deploy.md).
type netOptions struct {
	readHeaderTimeout, bodyTimeout, writeTimeout, idleTimeout time.Duration
	cookieSecure, trustedProxies, webhookAllow                string
	// parsed by checkNetFlags
	cookie  httpapi.CookieSecure
	proxies []netip.Prefix
	allow   []netip.Prefix
}

// addNetFlags adds the network edge's flags over their AFTERSALE_* variables.
func addNetFlags(fs *flag.FlagSet, o *netOptions, getenv func(string) string, dur func(string, time.Duration) time.Duration) {
	env := func(k string) string { return getenv(k) }
	fs.DurationVar(&o.readHeaderTimeout, "read-header-timeout", dur("AFTERSALE_READ_HEADER_TIMEOUT", httpapi.DefaultReadHeaderTimeout),
		"how long a client may take to send a request's headers (env AFTERSALE_READ_HEADER_TIMEOUT)")
	fs.DurationVar(&o.bodyTimeout, "body-timeout", dur("AFTERSALE_BODY_TIMEOUT", httpapi.DefaultBodyTimeout),
		"how long a client may take to send a request's body; past it the answer is 408 and the connection closes (env AFTERSALE_BODY_TIMEOUT)")
	fs.DurationVar(&o.writeTimeout, "write-timeout", dur("AFTERSALE_WRITE_TIMEOUT", httpapi.DefaultWriteTimeout),
		"how long writing an answer may take; each event of /v1/stream gets it afresh, so streams live on (env AFTERSALE_WRITE_TIMEOUT)")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", dur("AFTERSALE_IDLE_TIMEOUT", httpapi.DefaultIdleTimeout),
		"how long a kept-alive connection may wait for its next request (env AFTERSALE_IDLE_TIMEOUT)")
	fs.StringVar(&o.cookieSecure, "cookie-secure", cmp.Or(env("AFTERSALE_COOKIE_SECURE"), "auto"),
		"mark the session cookies Secure: auto = when the request came over TLS or a trusted proxy says X-Forwarded-Proto: https; always; never (env AFTERSALE_COOKIE_SECURE)")
	fs.StringVar(&o.trustedProxies, "trusted-proxies", env("AFTERSALE_TRUSTED_PROXIES"),
		"addresses or CIDR prefixes of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed, comma-separated; none by default (env AFTERSALE_TRUSTED_PROXIES)")
	fs.StringVar(&o.webhookAllow, "webhook-allow", env("AFTERSALE_WEBHOOK_ALLOW"),
		"addresses or CIDR prefixes webhooks may reach although not public (loopback, private, link-local …), comma-separated; none by default (env AFTERSALE_WEBHOOK_ALLOW)")
}

// checkNetFlags parses and checks the network edge's flags; an error names
// the flag.
func checkNetFlags(o *netOptions, stderr io.Writer) error {
	fail := func(err error) error {
		fmt.Fprintln(stderr, err)
		return err
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--read-header-timeout", o.readHeaderTimeout}, {"--body-timeout", o.bodyTimeout}, {"--write-timeout", o.writeTimeout}, {"--idle-timeout", o.idleTimeout}} {
		if d.v <= 0 {
			return fail(fmt.Errorf("%s %s: want a positive duration", d.name, d.v))
		}
	}
	var err error
	if o.cookie, err = httpapi.ParseCookieSecure(o.cookieSecure); err != nil {
		return fail(fmt.Errorf("--cookie-secure %w", err))
	}
	if o.proxies, err = netx.ParsePrefixes(o.trustedProxies); err != nil {
		return fail(fmt.Errorf("--trusted-proxies: %w", err))
	}
	if o.allow, err = netx.ParsePrefixes(o.webhookAllow); err != nil {
		return fail(fmt.Errorf("--webhook-allow: %w", err))
	}
	return nil
}
