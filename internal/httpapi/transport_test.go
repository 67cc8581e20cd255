package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"aftersale/internal/auth"
	"aftersale/internal/commerce"
	"aftersale/internal/httpapi"
	"aftersale/internal/store"
	"aftersale/internal/webhook"
)

// trickle sends a request's head (with a Content-Length of size) over a
// connection of its own, then its body one byte every 100 ms, and returns
// the answer's status and problem reason and how many body bytes were sent
// before the answer came.
func trickle(t *testing.T, addr, head string, size int) (int, string, int) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := fmt.Fprintf(c, "%sContent-Length: %d\r\nContent-Type: application/json\r\n\r\n", head, size); err != nil {
		t.Fatal(err)
	}
	var sent atomic.Int32
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for range size {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			if _, err := c.Write([]byte(" ")); err != nil {
				return
			}
			sent.Add(1)
		}
	})
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	close(stop)
	wg.Wait() // the writer's count is final (the answer may come before its last write returned)
	if err != nil {
		t.Fatalf("no answer to a slow body: %v (%d bytes sent)", err, sent.Load())
	}
	n := int(sent.Load())
	defer res.Body.Close()
	var p problem
	_ = json.NewDecoder(res.Body).Decode(&p)
	if res.StatusCode == http.StatusRequestTimeout && !res.Close {
		t.Errorf("the 408 keeps the connection open (Connection: %q)", res.Header.Get("Connection"))
	}
	return res.StatusCode, p.Reason, n
}

// A client that sends its headers and then trickles its body is answered
// 408 request.timeout once the body timeout passed, and its connection is
// closed — with an Idempotency-Key (the middleware buffers the body) and as
// a signed-in person (whose POST is read for its actor) alike, which both
// read the body before the operation's own limit — and the server goes on
// answering others meanwhile and after.
func TestSlowBody_CutOffAt408(t *testing.T) {
	e := newAPIWith(t, bj(t, "2023-08-01T10:00:00"), false, nil, func(c *httpapi.Config) { c.BodyTimeout = 500 * time.Millisecond })
	e.shop("tb", commerce.Taobao)
	e.person("buyer.slow", auth.RoleBuyer, "b_slow")
	tok := e.session("buyer.slow").Token
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	const size = 300 // 30 s at the trickle's pace
	for _, tc := range []struct{ name, head string }{
		{"idempotency key", "POST /v1/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + platformKey + "\r\nIdempotency-Key: slow-1\r\n"},
		{"signed-in person", "POST /v1/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok + "\r\n"},
		{"signed-in person, en", "PUT /v1/me/password HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok + "\r\nAccept-Language: en\r\n"},
		{"plain API key", "POST /v1/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + platformKey + "\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var wg sync.WaitGroup
			others := make(chan int, 1)
			wg.Go(func() { // another client meanwhile
				time.Sleep(200 * time.Millisecond)
				r := e.get("/healthz")
				others <- r.Status
			})
			status, reason, sent := trickle(t, addr, tc.head, size)
			wg.Wait()
			if status != http.StatusRequestTimeout || reason != "request.timeout" || sent >= size {
				t.Fatalf("slow body: %d %q after %d of %d bytes, want 408 request.timeout before the body was all sent", status, reason, sent, size)
			}
			if s := <-others; s != http.StatusOK {
				t.Errorf("another client meanwhile: %d", s)
			}
		})
	}
	if r := e.get("/healthz"); r.Status != http.StatusOK {
		t.Fatalf("after the slow bodies: %d", r.Status)
	}
	// the 408's title in both languages
	for lang, want := range map[string]string{"zh-CN": "请求体未在时限内收到", "en": "Request body not received in time"} {
		if got := httpapi.Title("request.timeout", lang); got != want {
			t.Errorf("title %s = %q, want %q", lang, got, want)
		}
	}
}

// --body-timeout is the body's limit on every operation: a body that takes
// longer than huma's own default (5 s) but less than the setting is read
// whole and answered (here 400: it is only spaces), not 408.
func TestSlowBody_WithinBodyTimeoutIsRead(t *testing.T) {
	e := newAPIWith(t, bj(t, "2023-08-01T10:00:00"), false, nil, func(c *httpapi.Config) { c.BodyTimeout = 20 * time.Second })
	const size = 60 // 6 s at the trickle's pace
	status, reason, sent := trickle(t, strings.TrimPrefix(e.srv.URL, "http://"),
		"POST /v1/facts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+platformKey+"\r\n", size) // huma reads this body itself
	if status == http.StatusRequestTimeout || sent != size {
		t.Fatalf("a body within --body-timeout: %d %q after %d of %d bytes, want it read whole", status, reason, sent, size)
	}
}

// The event stream outlives the server's read and write timeouts (each
// frame gets the write timeout of its own; a stream has no body to time
// out): heartbeats keep coming well after both passed.
func TestStream_OutlivesServerTimeouts(t *testing.T) {
	e := newLiveAPI(t, bj(t, "2023-07-05T10:00:00"), webhook.Config{})
	e.shop("tm", commerce.Tmall)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: e.srv.Config.Handler, ReadHeaderTimeout: 300 * time.Millisecond,
		ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond}
	go srv.Serve(ln)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/v1/stream", nil)
	req.Header.Set("Authorization", "Bearer "+platformKey)
	req.Header.Set("X-Actor", "shop_main:tm_main")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("stream: %d", res.StatusCode)
	}
	start := time.Now()
	sc := bufio.NewScanner(res.Body)
	late := 0 // heartbeats after the timeouts passed three times over
	for late < 3 && sc.Scan() {
		if sc.Text() == ": heartbeat" && time.Since(start) > time.Second {
			late++
		}
	}
	if late < 3 {
		t.Fatalf("the stream ended after %s (%v), %d heartbeats after 1 s", time.Since(start).Round(time.Millisecond), sc.Err(), late)
	}
}

// Session cookies are Secure over TLS, and behind a TLS-terminating proxy
// only when that proxy is trusted (--trusted-proxies) and says
// X-Forwarded-Proto: https, or when --cookie-secure always; never with
// --cookie-secure never. A client's own X-Forwarded-Proto counts for nothing.
func TestCookieSecure_BehindProxy(t *testing.T) {
	loop := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	for _, tc := range []struct {
		name   string
		proxy  httpapi.ProxyConfig
		xfp    string
		secure bool
	}{
		{"auto, plain http", httpapi.ProxyConfig{}, "", false},
		{"auto, untrusted peer says https", httpapi.ProxyConfig{}, "https", false},
		{"auto, trusted proxy says https", httpapi.ProxyConfig{TrustedProxies: loop}, "https", true},
		{"auto, trusted proxy says http", httpapi.ProxyConfig{TrustedProxies: loop}, "http", false},
		{"always", httpapi.ProxyConfig{CookieSecure: httpapi.CookieSecureAlways}, "", true},
		{"never, trusted proxy says https", httpapi.ProxyConfig{CookieSecure: httpapi.CookieSecureNever, TrustedProxies: loop}, "https", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newAPIWith(t, bj(t, "2023-08-01T10:00:00"), false, nil, func(c *httpapi.Config) { c.Proxy = tc.proxy })
			e.person("buyer.c", auth.RoleBuyer, "b_c")
			var hs []string
			if tc.xfp != "" {
				hs = []string{"X-Forwarded-Proto", tc.xfp}
			}
			r := e.req(http.MethodPost, "/v1/sessions", "", map[string]any{"login": "buyer.c", "password": testPassword}, hs...)
			cookies := (&http.Response{Header: r.Header}).Cookies()
			if r.Status != http.StatusCreated || len(cookies) != 2 {
				t.Fatalf("sign-in: %d %s", r.Status, r.Body)
			}
			for _, c := range cookies {
				if c.Secure != tc.secure {
					t.Errorf("cookie %s Secure=%v, want %v", c.Name, c.Secure, tc.secure)
				}
			}
		})
	}
	for _, bad := range []string{"sometimes", "yes"} {
		if _, err := httpapi.ParseCookieSecure(bad); err == nil {
			t.Errorf("ParseCookieSecure(%q) accepted", bad)
		}
	}
}

// Without --webhook-allow, a subscription to a loopback, private or
// link-local URL, or to a name that resolves to one, is refused 422 naming
// the field url (nothing is stored); a public one is accepted. With the
// allow-list the loopback one is accepted.
func TestWebhooks_PrivateURLsRefused(t *testing.T) {
	deny := newLiveAPI(t, bj(t, "2023-07-05T10:00:00"), webhook.Config{Guard: &webhook.Guard{}})
	for _, u := range []string{"http://127.0.0.1:9/hook", "http://10.0.0.1/hook", "http://[::1]:8080/hook", "http://localhost:9/hook",
		"http://169.254.169.254/latest/meta-data/", "http://192.168.0.10/"} {
		p := deny.wantProblem(deny.req(http.MethodPost, "/v1/webhooks", operatorKey, map[string]any{"url": u, "events": []string{"*"}}, "Accept-Language", "en"),
			http.StatusUnprocessableEntity, "invalid", "", "url")
		if !strings.Contains(p.Detail, "--webhook-allow") {
			t.Errorf("%s: detail %q does not say how to allow it", u, p.Detail)
		}
	}
	var list struct{ Subscriptions []json.RawMessage }
	deny.ok(deny.get("/v1/webhooks"), http.StatusOK, &list)
	if len(list.Subscriptions) != 0 {
		t.Fatalf("refused subscriptions were stored: %d", len(list.Subscriptions))
	}
	deny.ok(deny.req(http.MethodPost, "/v1/webhooks", operatorKey, map[string]any{"url": "https://203.0.113.10/hook", "events": []string{"*"}}), http.StatusCreated, nil)

	allow := newLiveAPI(t, bj(t, "2023-07-05T10:00:00"), webhook.Config{Guard: &webhook.Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}})
	allow.ok(allow.req(http.MethodPost, "/v1/webhooks", operatorKey, map[string]any{"url": "http://127.0.0.1:9/hook", "events": []string{"*"}}), http.StatusCreated, nil)
}

// On the API's address /metrics answers an API key only (401 without one,
// 403 for a person's session); on --metrics-addr it needs none and is not
// on the API's address.
func TestMetrics_PublicAddressWantsKey(t *testing.T) {
	addr, _, _ := runServer(t, httpapi.RunConfig{DB: filepath.Join(t.TempDir(), "k.db")})
	get := func(hs ...string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
		for i := 0; i+1 < len(hs); i += 2 {
			req.Header.Set(hs[i], hs[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	if res := get(); res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("GET /metrics without a key: %d", res.StatusCode)
	}
	if res := get("Authorization", "Bearer wrong"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /metrics with a wrong key: %d", res.StatusCode)
	}
	for _, k := range []string{platformKey, operatorKey} {
		if res := get("Authorization", "Bearer "+k); res.StatusCode != http.StatusOK {
			t.Errorf("GET /metrics with a key: %d", res.StatusCode)
		}
	}
}

// blockingStore, once armed, holds the next write until the request's
// context ends, then fails with the context's error (a client that went
// away mid-request).
type blockingStore struct {
	store.Store
	armed   *atomic.Bool
	entered chan struct{}
}

func (b blockingStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	if b.armed.CompareAndSwap(true, false) {
		b.entered <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}
	return b.Store.Update(ctx, fn)
}

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A request whose client goes away before the answer is not a server
// error: the access log says so at INFO with status 499 (not ERROR 500),
// nothing is logged at ERROR, and the request counter counts it as 499.
func TestClientGone_NotAServerError(t *testing.T) {
	var logs syncBuffer
	entered := make(chan struct{}, 1)
	var armed atomic.Bool
	e := newAPIWith(t, bj(t, "2023-08-01T10:00:00"), false, func(s store.Store) store.Store { return blockingStore{s, &armed, entered} }, func(c *httpapi.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	e.shop("tb", commerce.Taobao)
	e.pastOrder("tb", "o1")
	armed.Store(true)
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+"/v1/tasks", strings.NewReader(
		`{"type":"return_refund","order_id":"o1","actor":{"role":"buyer","id":"`+buyerOf("o1")+`"}}`))
	req.Header.Set("Authorization", "Bearer "+platformKey)
	req.Header.Set("Content-Type", "application/json")
	done := make(chan error, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	<-entered
	cancel() // the client goes away
	<-done
	var line map[string]any
	for range 100 { // the access log line comes when the handler has returned
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, `"path":"/v1/tasks"`) {
				_ = json.Unmarshal([]byte(l), &line)
			}
		}
		if line != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if line == nil {
		t.Fatalf("no access log line for the abandoned request: %s", logs.String())
	}
	if line["level"] != "INFO" || line["status"] != float64(499) {
		t.Errorf("abandoned request logged %v %v (%v), want INFO 499", line["level"], line["status"], line["msg"])
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("an abandoned request logged an ERROR:\n%s", logs.String())
	}
}

// Run passes its settings on: RunConfig.BodyTimeout cuts a slow body with
// 408, and RunConfig.WebhookAllow decides whether a loopback webhook is
// accepted (422 url without it).
func TestRun_EdgeSettings(t *testing.T) {
	addr, _, _ := runServer(t, httpapi.RunConfig{DB: filepath.Join(t.TempDir(), "e.db"), BodyTimeout: 500 * time.Millisecond})
	status, reason, sent := trickle(t, addr, "POST /v1/facts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+platformKey+"\r\n", 300)
	if status != http.StatusRequestTimeout || reason != "request.timeout" || sent >= 300 {
		t.Fatalf("slow body under Run: %d %q after %d bytes", status, reason, sent)
	}
	hook := func(addr string) int {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/webhooks", strings.NewReader(`{"url":"http://127.0.0.1:9/hook","events":["*"]}`))
		req.Header.Set("Authorization", "Bearer "+operatorKey)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if s := hook(addr); s != http.StatusUnprocessableEntity {
		t.Errorf("loopback webhook without WebhookAllow: %d, want 422", s)
	}
	allowed, _, _ := runServer(t, httpapi.RunConfig{DB: filepath.Join(t.TempDir(), "a.db"),
		WebhookAllow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	if s := hook(allowed); s != http.StatusCreated {
		t.Errorf("loopback webhook with WebhookAllow: %d, want 201", s)
	}
}
