package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"syscall"

	"aftersale/internal/apperr"
	"aftersale/internal/netx"
)

// Guard keeps webhooks on the public internet: a subscription's URL may not
// lead to loopback, private (RFC 1918, fc00::/7), link-local, unspecified,
// multicast, carrier-grade NAT or other special addresses (netx.Public)
// unless Allow holds them. It is checked when a subscription is made (the
// host resolved) and again when each delivery connects, on the address
// actually dialled, so a name that resolves elsewhere later (DNS rebinding)
// gains nothing.
type Guard struct {
	// Allow lists the prefixes webhooks may reach although they are not
	// public (--webhook-allow): a private deployment's receivers, tests'
	// loopback servers.
	Allow []netip.Prefix
	// Lookup resolves a host name (default net.DefaultResolver).
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)
}

// ErrForbiddenAddress is the error of a webhook that would reach an address
// that is not public and not in Guard.Allow.
var ErrForbiddenAddress = errors.New("webhook: address not allowed")

func (g *Guard) allowed(a netip.Addr) bool {
	return netx.Public(a) || (g != nil && netx.Contains(g.Allow, a))
}

func (g *Guard) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if g != nil && g.Lookup != nil {
		return g.Lookup(ctx, host)
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// CheckURL refuses, as invalid "url", a webhook URL whose host is, or
// resolves to, an address that is not allowed. A name that does not
// resolve (yet) is accepted: its deliveries are checked when they connect.
func (g *Guard) CheckURL(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		return apperr.Invalid("url", "", "url must be an absolute http or https URL, got %q", rawURL)
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		if !g.allowed(a) {
			return apperr.Invalid("url", "", "url %q targets %s, which is not a public address (loopback, private, link-local and similar addresses are refused unless the server's --webhook-allow lists them)", rawURL, a)
		}
		return nil
	}
	addrs, err := g.lookup(ctx, host)
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if !g.allowed(a) {
			return apperr.Invalid("url", "", "url %q: host %s resolves to %s, which is not a public address (loopback, private, link-local and similar addresses are refused unless the server's --webhook-allow lists them)", rawURL, host, a)
		}
	}
	return nil
}

// DialContext connects to address (host:port) as a net.Dialer would, but
// only to allowed addresses: the host is resolved here and every address
// checked, and the dialler checks again the address it connects to.
func (g *Guard) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else if addrs, err = g.lookup(ctx, host); err != nil {
		return nil, err
	}
	var ok []netip.Addr
	for _, a := range addrs {
		if g.allowed(a) {
			ok = append(ok, a)
		}
	}
	if len(ok) == 0 {
		return nil, fmt.Errorf("%w: %s is %v, not a public address and not in --webhook-allow", ErrForbiddenAddress, host, addrs)
	}
	d := &net.Dialer{Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !g.allowed(ap.Addr()) {
			return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
		}
		return nil
	}}
	var firstErr error
	for _, a := range ok {
		c, err := d.DialContext(ctx, network, net.JoinHostPort(a.Unmap().String(), port))
		if err == nil {
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, firstErr
}

// Guard is the sender's address guard, for checking a subscription's URL
// (a nil sender has the default guard: public addresses only).
func (s *Sender) Guard() *Guard {
	if s == nil || s.c.Guard == nil {
		return &Guard{}
	}
	return s.c.Guard
}
