package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"aftersale/internal/netx"
)

// Defaults of the connection timeouts (RunConfig, Config).
const (
	// DefaultReadHeaderTimeout bounds reading a request's line and headers.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultBodyTimeout bounds reading a request's body, from when the
	// API starts on the request.
	DefaultBodyTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds writing an answer (from the end of the
	// headers); each frame of an event stream gets this long of its own.
	DefaultWriteTimeout = 60 * time.Second
	// DefaultIdleTimeout is how long a kept-alive connection may wait for
	// its next request.
	DefaultIdleTimeout = 120 * time.Second
)

// bodyDeadline gives every request body a read deadline of d from now: a
// client that trickles its body is answered 408 request.timeout (and the
// connection closed) when d has passed, whichever layer is reading it (the
// Idempotency-Key middleware, the signed-in person's check, huma). The
// deadline is lifted once the body is read, and at once for a request
// without a body, so a long answer (the event stream) is not cut by it.
func bodyDeadline(d time.Duration, next http.Handler) http.Handler {
	if d <= 0 {
		d = DefaultBodyTimeout
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		tw := &timeoutWriter{ResponseWriter: w}
		if r.Body == nil || r.Body == http.NoBody {
			_ = rc.SetReadDeadline(time.Time{}) // lifts the server's ReadTimeout backstop
			next.ServeHTTP(tw, r)
			return
		}
		if rc.SetReadDeadline(time.Now().Add(d)) != nil {
			next.ServeHTTP(w, r) // not a real connection (a recorder): nothing to bound
			return
		}
		r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc, timedOut: func() { tw.timeout(langOf(r.Context()), d) }}
		next.ServeHTTP(tw, r)
	})
}

// deadlineBody lifts the read deadline at the end of the body and reports
// a read that hit it.
type deadlineBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	timedOut func()
	done     bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !b.done {
		b.done = true
		if errors.Is(err, os.ErrDeadlineExceeded) {
			b.timedOut()
		} else {
			_ = b.rc.SetReadDeadline(time.Time{})
		}
	}
	return n, err
}

// timeoutWriter answers 408 when the body's deadline passed, and drops what
// the handler writes after that (its own view of the failed read).
type timeoutWriter struct {
	http.ResponseWriter
	wrote, timedOut bool
}

func (w *timeoutWriter) timeout(lang string, d time.Duration) {
	if w.wrote || w.timedOut {
		return
	}
	w.timedOut = true
	w.ResponseWriter.Header().Set("Connection", "close")
	writeProblem(w.ResponseWriter, newProblem(http.StatusRequestTimeout, "invalid", "request.timeout", "", lang,
		fmt.Sprintf("the request body was not received within %s; send it again, whole", d)))
}

func (w *timeoutWriter) WriteHeader(code int) {
	if w.timedOut {
		return
	}
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *timeoutWriter) Write(b []byte) (int, error) {
	if w.timedOut {
		return 0, http.ErrHandlerTimeout
	}
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *timeoutWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// SetReadDeadline keeps the body's deadline as bodyDeadline set it: huma
// sets one of its own (5 s by default) before it reads an operation's body,
// which would replace the configured one, and would stay on a connection
// whose request had no body, ending the request's context when it passed.
func (w *timeoutWriter) SetReadDeadline(time.Time) error { return nil }

// CookieSecure says when the session cookies are marked Secure.
type CookieSecure string

// The --cookie-secure values.
const (
	// CookieSecureAuto marks them Secure when the request came over TLS, or
	// from a trusted proxy saying X-Forwarded-Proto: https.
	CookieSecureAuto CookieSecure = "auto"
	// CookieSecureAlways always marks them Secure (behind any TLS-terminating proxy).
	CookieSecureAlways CookieSecure = "always"
	// CookieSecureNever never does (plain-HTTP development only).
	CookieSecureNever CookieSecure = "never"
)

// ParseCookieSecure reads a --cookie-secure value ("" is auto).
func ParseCookieSecure(s string) (CookieSecure, error) {
	switch c := CookieSecure(strings.ToLower(strings.TrimSpace(s))); c {
	case "":
		return CookieSecureAuto, nil
	case CookieSecureAuto, CookieSecureAlways, CookieSecureNever:
		return c, nil
	}
	return "", fmt.Errorf("%q: want auto, always or never", s)
}

// ParseTrustedProxies reads a --trusted-proxies value: addresses or CIDR
// prefixes separated by commas (or spaces); a bare address is that one host.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) { return netx.ParsePrefixes(s) }

// ProxyConfig is how the API sees a client behind a reverse proxy.
type ProxyConfig struct {
	// CookieSecure: auto (default), always or never.
	CookieSecure CookieSecure
	// TrustedProxies are the peers whose X-Forwarded-For and
	// X-Forwarded-Proto are believed; from anyone else they are ignored.
	TrustedProxies []netip.Prefix
}

type clientKey struct{}

// client is what the proxy middleware learnt of a request's sender.
type client struct {
	addr          string
	https         bool
	secureCookies bool
}

func (c ProxyConfig) trusted(a netip.Addr) bool { return netx.Contains(c.TrustedProxies, a) }

// identify works out r's client from its peer and, when the peer is a
// trusted proxy, the X-Forwarded-* headers.
func (c ProxyConfig) identify(r *http.Request) client {
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		host = h
	}
	cl := client{addr: host, https: r.TLS != nil}
	peer, err := netip.ParseAddr(host)
	if err == nil && c.trusted(peer) {
		if p := r.Header.Values("X-Forwarded-Proto"); len(p) > 0 {
			// the proxy nearest us appends last
			parts := strings.Split(p[len(p)-1], ",")
			cl.https = strings.EqualFold(strings.TrimSpace(parts[len(parts)-1]), "https")
		}
		// X-Forwarded-For: the right-most address that is not a trusted
		// proxy is the client (addresses left of it are the client's word).
		var hops []string
		for _, v := range r.Header.Values("X-Forwarded-For") {
			hops = append(hops, strings.Split(v, ",")...)
		}
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break
			}
			cl.addr = a.Unmap().String()
			if !c.trusted(a) {
				break
			}
		}
	}
	switch c.CookieSecure {
	case CookieSecureAlways:
		cl.secureCookies = true
	case CookieSecureNever:
	default:
		cl.secureCookies = cl.https
	}
	return cl
}

// middleware records the request's client (ClientAddr, secureCookies).
func (c ProxyConfig) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cl := c.identify(r)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, cl)))
	})
}

func clientOf(r *http.Request) client {
	if cl, ok := r.Context().Value(clientKey{}).(client); ok {
		return cl
	}
	return ProxyConfig{}.identify(r)
}

// ClientAddr is the IP address of the client that sent r: the connection's
// peer, or, when the peer is one of Config.Proxy.TrustedProxies, the
// right-most X-Forwarded-For address that is not itself a trusted proxy.
// A client cannot choose it by sending X-Forwarded-For itself.
func ClientAddr(r *http.Request) string { return clientOf(r).addr }

// secureCookies says whether cookies set in answer to r are marked Secure
// (Config.Proxy.CookieSecure).
func secureCookies(r *http.Request) bool { return clientOf(r).secureCookies }

// frameDeadline gives each write of a long answer (the event stream) a
// write deadline of its own, d from the write, instead of the server's
// WriteTimeout for the whole answer: a stream lives on, a client that stops
// reading is dropped.
type frameDeadline struct {
	http.ResponseWriter
	rc *http.ResponseController
	d  time.Duration
}

func newFrameDeadline(w http.ResponseWriter, d time.Duration) *frameDeadline {
	if d <= 0 {
		d = DefaultWriteTimeout
	}
	f := &frameDeadline{ResponseWriter: w, rc: http.NewResponseController(w), d: d}
	_ = f.rc.SetWriteDeadline(time.Now().Add(d))
	return f
}

func (f *frameDeadline) Write(b []byte) (int, error) {
	_ = f.rc.SetWriteDeadline(time.Now().Add(f.d))
	return f.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (f *frameDeadline) Unwrap() http.ResponseWriter { return f.ResponseWriter }
