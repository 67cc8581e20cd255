package main

import (
	"fmt"
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
func addNetFlags(s *settings, o *netOptions) {
	s.durationVar(&o.readHeaderTimeout, "read-header-timeout", "AFTERSALE_READ_HEADER_TIMEOUT", httpapi.DefaultReadHeaderTimeout,
		"how long a client may take to send a request's headers (env AFTERSALE_READ_HEADER_TIMEOUT)")
	s.durationVar(&o.bodyTimeout, "body-timeout", "AFTERSALE_BODY_TIMEOUT", httpapi.DefaultBodyTimeout,
		"how long a client may take to send a request's body; past it the answer is 408 and the connection closes (env AFTERSALE_BODY_TIMEOUT)")
	s.durationVar(&o.writeTimeout, "write-timeout", "AFTERSALE_WRITE_TIMEOUT", httpapi.DefaultWriteTimeout,
		"how long writing an answer may take; each event of /v1/stream gets it afresh, so streams live on (env AFTERSALE_WRITE_TIMEOUT)")
	s.durationVar(&o.idleTimeout, "idle-timeout", "AFTERSALE_IDLE_TIMEOUT", httpapi.DefaultIdleTimeout,
		"how long a kept-alive connection may wait for its next request (env AFTERSALE_IDLE_TIMEOUT)")
	s.stringVar(&o.cookieSecure, "cookie-secure", "AFTERSALE_COOKIE_SECURE", "auto",
		"mark the session cookies Secure: auto = when the request came over TLS or a trusted proxy says X-Forwarded-Proto: https; always; never (env AFTERSALE_COOKIE_SECURE)")
	s.stringVar(&o.trustedProxies, "trusted-proxies", "AFTERSALE_TRUSTED_PROXIES", "",
		"addresses or CIDR prefixes of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed, comma-separated; none by default (env AFTERSALE_TRUSTED_PROXIES)")
	s.stringVar(&o.webhookAllow, "webhook-allow", "AFTERSALE_WEBHOOK_ALLOW", "",
		"addresses or CIDR prefixes webhooks may reach although not public (loopback, private, link-local …), comma-separated; none by default (env AFTERSALE_WEBHOOK_ALLOW)")
}

// checkNetFlags parses and checks the network edge's flags; each bad one is
// recorded naming the flag.
func checkNetFlags(s *settings, o *netOptions) {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--read-header-timeout", o.readHeaderTimeout}, {"--body-timeout", o.bodyTimeout}, {"--write-timeout", o.writeTimeout}, {"--idle-timeout", o.idleTimeout}} {
		if d.v <= 0 {
			s.fail(fmt.Errorf("%s %s: want a positive duration", d.name, d.v))
		}
	}
	var err error
	if o.cookie, err = httpapi.ParseCookieSecure(o.cookieSecure); err != nil {
		s.fail(fmt.Errorf("--cookie-secure %w", err))
	}
	if o.proxies, err = netx.ParsePrefixes(o.trustedProxies); err != nil {
		s.fail(fmt.Errorf("--trusted-proxies: %w", err))
	}
	if o.allow, err = netx.ParsePrefixes(o.webhookAllow); err != nil {
		s.fail(fmt.Errorf("--webhook-allow: %w", err))
	}
}
