package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"aftersale/internal/auth"
	"aftersale/internal/httpapi"
)

// fromAddr returns an HTTP client whose connections come from the loopback
// address ip (127.0.0.2, 127.0.0.3 …: on Linux all of 127/8 is this host),
// so the server sees distinct client addresses over real TCP.
func fromAddr(t testing.TB, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// loginFrom signs in from client c (an address of fromAddr).
func (e *apiEnv) loginFrom(c *http.Client, login, password string) resp {
	e.t.Helper()
	r, err := signIn(c, e.srv.URL, login, password)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// signIn posts a sign-in and reads the whole answer.
func signIn(c *http.Client, base, login, password string) (resp, error) {
	body, _ := json.Marshal(map[string]string{"login": login, "password": password})
	req, err := http.NewRequest(http.MethodPost, base+"/v1/sessions", bytes.NewReader(body))
	if err != nil {
		return resp{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		return resp{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return resp{Status: res.StatusCode, Header: res.Header, Body: b}, err
}

// Wrong passwords slow the address that sends them, not the account: after
// --login-max-failures failures from A within the window, A answers 429
// auth.throttled with Retry-After until the window ends (even with the
// right password, and for any login), while B signs in as the same login.
// A success does not clear A's count (a known password would otherwise
// buy more guesses); the next window does.
func TestSignIn_ThrottlesTheAddressNotTheAccount(t *testing.T) {
	start := bj(t, "2023-08-01T10:00:00") // 02:00 UTC: a 15-minute window starts here
	e := newAPI(t, start, false)
	e.person("operator", auth.RoleOperator, "")
	e.person("agent.one", auth.RoleAgent, "a1")
	a, b := fromAddr(t, "127.0.0.2"), fromAddr(t, "127.0.0.3")

	e.ok(e.loginFrom(a, "agent.one", testPassword), http.StatusCreated, nil)
	for i := range 5 {
		e.wantProblem(e.loginFrom(a, "operator", fmt.Sprint("guess ", i)), http.StatusUnauthorized, "auth.login_failed", "", "")
	}
	e.clock.Set(start.Add(10 * time.Minute))
	r := e.loginFrom(a, "operator", testPassword)
	e.wantProblem(r, http.StatusTooManyRequests, "auth.throttled", "", "login")
	if ra := r.Header.Get("Retry-After"); ra != "300" {
		t.Fatalf("Retry-After %q, want 300 (the window's end)", ra)
	}
	e.wantProblem(e.loginFrom(a, "agent.one", testPassword), http.StatusTooManyRequests, "auth.throttled", "", "login")
	e.wantProblem(e.loginFrom(a, "nobody.here", "x"), http.StatusTooManyRequests, "auth.throttled", "", "login")

	// B: the same login, at once, with no wait
	var s httpapi.SessionBody
	e.ok(e.loginFrom(b, "operator", testPassword), http.StatusCreated, &s)
	if s.Person.Login != "operator" {
		t.Fatalf("signed in as %+v", s.Person)
	}
	// B's own mistakes count for B alone
	e.wantProblem(e.loginFrom(b, "operator", "typo"), http.StatusUnauthorized, "auth.login_failed", "", "")
	e.ok(e.loginFrom(b, "operator", testPassword), http.StatusCreated, nil)

	e.clock.Set(start.Add(15 * time.Minute)) // the next window: A is forgiven
	e.ok(e.loginFrom(a, "operator", testPassword), http.StatusCreated, nil)
}

// A wrong current password at PUT /v1/me/password counts against the
// address it came from: after five, that address is throttled there and at
// sign-in, while the person signs in from another address.
func TestChangePassword_ThrottlesTheAddress(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), false)
	e.person("agent.one", auth.RoleAgent, "a1")
	a, b := fromAddr(t, "127.0.0.4"), fromAddr(t, "127.0.0.5")
	var s httpapi.SessionBody
	e.ok(e.loginFrom(a, "agent.one", testPassword), http.StatusCreated, &s)
	change := func(current string) resp {
		body, _ := json.Marshal(map[string]string{"current_password": current, "new_password": "a brand new pass phrase"})
		req, _ := http.NewRequest(http.MethodPut, e.srv.URL+"/v1/me/password", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+s.Token)
		res, err := a.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		rb, _ := io.ReadAll(res.Body)
		return resp{Status: res.StatusCode, Header: res.Header, Body: rb}
	}
	for i := range 5 {
		e.wantProblem(change(fmt.Sprint("wrong ", i)), http.StatusUnprocessableEntity, "password.current_wrong", "", "current_password")
	}
	r := change(testPassword)
	e.wantProblem(r, http.StatusTooManyRequests, "auth.throttled", "", "current_password")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	e.wantProblem(e.loginFrom(a, "agent.one", testPassword), http.StatusTooManyRequests, "auth.throttled", "", "login")
	e.ok(e.loginFrom(b, "agent.one", testPassword), http.StatusCreated, nil) // the password did not change
}

// Every password check runs argon2id, for an unknown login as for a known
// one (the same cost, so the time tells nothing): the hook counts one hash
// per sign-in either way.
func TestSignIn_UnknownLoginCostsAHash(t *testing.T) {
	var hashes atomic.Int64
	e := newAPIWith(t, bj(t, "2023-08-01T10:00:00"), false, nil, func(c *httpapi.Config) {
		c.Sessions.OnHash = func() { hashes.Add(1) }
	})
	e.person("agent.one", auth.RoleAgent, "a1")
	for _, c := range []struct {
		login, password string
		status          int
	}{
		{"nobody.here", "not the password", http.StatusUnauthorized},
		{"agent.one", "not the password", http.StatusUnauthorized},
		{"agent.one", testPassword, http.StatusCreated},
		{"ghost.user", testPassword, http.StatusUnauthorized},
	} {
		before := hashes.Load()
		if r := e.login(c.login, c.password); r.Status != c.status {
			t.Fatalf("%s: status %d, want %d: %s", c.login, r.Status, c.status, r.Body)
		}
		if n := hashes.Load() - before; n != 1 {
			t.Fatalf("sign-in as %s (%d) ran argon2id %d times, want 1", c.login, c.status, n)
		}
	}
}

// rssChild marks the subprocess of TestSignIn_MemoryBoundedUnderLoad.
const rssChild = "AFTERSALE_TEST_SIGNIN_RSS_CHILD"

// rssLimit is the peak resident size the sign-in storm may reach.
const rssLimit = 300 << 20

// 500 parallel bad sign-ins (unknown logins and a known login with wrong
// passwords, from 50 addresses, at the real argon2id cost of 19 MiB) keep
// the server's peak RSS under 300 MB; every answer is 401 or 429 (with
// Retry-After), never 5xx; and a correct sign-in from another address,
// sent while the storm runs, succeeds. The server runs in a subprocess (this
// test, re-executed) so the peak (VmHWM) is the storm's alone.
func TestSignIn_MemoryBoundedUnderLoad(t *testing.T) {
	if os.Getenv(rssChild) == "1" {
		signInStorm(t)
		return
	}
	if testing.Short() {
		t.Skip("-short: the storm takes a few seconds")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSignIn_MemoryBoundedUnderLoad$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), rssChild+"=1", "AFTERSALE_TEST_STORE=sqlite")
	out, err := cmd.CombinedOutput()
	var peak int64 = -1
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "PEAK_RSS_BYTES="); ok {
			peak, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if err != nil || peak < 0 {
		t.Fatalf("the storm failed (%v):\n%s", err, out)
	}
	t.Logf("500 parallel bad sign-ins: server peak RSS (VmHWM) %.1f MiB (limit %d MiB)", float64(peak)/(1<<20), rssLimit>>20)
	if peak >= rssLimit {
		t.Fatalf("peak RSS %d bytes, want < %d", peak, rssLimit)
	}
}

// signInStorm is the subprocess of TestSignIn_MemoryBoundedUnderLoad. It
// prints PEAK_RSS_BYTES=n; a watcher stops it early (and fails it) if the
// resident size passes the limit, so a regression cannot take the machine.
func signInStorm(t *testing.T) {
	e := newAPIWith(t, bj(t, "2023-08-01T10:00:00"), false, nil, func(c *httpapi.Config) {
		c.Sessions.Hash = auth.DefaultParams // the real cost
	})
	e.person("operator", auth.RoleOperator, "")
	base := e.srv.URL
	t.Logf("before the storm: RSS %.1f MiB, peak %.1f MiB", float64(procStatus(t, "VmRSS"))/(1<<20), float64(procStatus(t, "VmHWM"))/(1<<20))

	stop := make(chan struct{})
	var watch sync.WaitGroup
	watch.Add(1)
	go func() {
		defer watch.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if rss := procStatus(t, "VmRSS"); rss >= rssLimit {
					fmt.Printf("PEAK_RSS_BYTES=%d\n", procStatus(t, "VmHWM"))
					fmt.Printf("RSS passed %d MiB mid-storm; stopped\n", rssLimit>>20)
					os.Exit(1)
				}
			}
		}
	}()

	const n, addrs = 500, 50
	clients := make([]*http.Client, addrs)
	for i := range clients {
		clients[i] = fromAddr(t, fmt.Sprintf("127.0.1.%d", i+1))
	}
	var mu sync.Mutex
	statuses := map[int]int{}
	var bad []string
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			login := fmt.Sprintf("ghost.%d", i)
			if i%2 == 0 {
				login = "operator"
			}
			<-gate
			r, err := signIn(clients[i%addrs], base, login, fmt.Sprint("guess ", i))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				bad = append(bad, err.Error())
			case r.Status == http.StatusTooManyRequests && r.Header.Get("Retry-After") == "":
				bad = append(bad, "429 without Retry-After: "+string(r.Body))
			case r.Status != http.StatusUnauthorized && r.Status != http.StatusTooManyRequests:
				bad = append(bad, fmt.Sprintf("%d: %s", r.Status, r.Body))
			}
			statuses[r.Status]++
		}()
	}
	close(gate)
	// the operator, from an address of their own, while the storm runs
	good := fromAddr(t, "127.0.2.1")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var ok resp
	tries := 0
	for ctx.Err() == nil {
		tries++
		r, err := signIn(good, base, "operator", testPassword)
		if err != nil {
			t.Fatal(err)
		}
		ok = r
		if r.Status != http.StatusTooManyRequests {
			break
		}
		secs, _ := strconv.Atoi(r.Header.Get("Retry-After"))
		time.Sleep(time.Duration(secs) * time.Second) // a client honouring Retry-After
	}
	wg.Wait()
	close(stop)
	watch.Wait()
	peak := procStatus(t, "VmHWM")
	fmt.Printf("PEAK_RSS_BYTES=%d\n", peak)
	t.Logf("answers to the storm by status: %v; the operator's sign-in: %d after %d tries", statuses, ok.Status, tries)
	if len(bad) > 0 {
		t.Fatalf("%d bad answers, e.g. %s", len(bad), bad[0])
	}
	if ok.Status != http.StatusCreated {
		t.Fatalf("the operator's sign-in from another address: %d %s", ok.Status, ok.Body)
	}
}

// procStatus reads a size field (kB) of /proc/self/status, in bytes.
func procStatus(t testing.TB, field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// Behind a trusted proxy the client address is the X-Forwarded-For one
// (httpapi.ClientAddr): the proxy's clients are throttled apart, though
// they all arrive from the proxy's address; from an untrusted peer the
// header is ignored, so a client cannot shed its count by sending one.
func TestSignIn_ThrottlesTheForwardedAddressBehindATrustedProxy(t *testing.T) {
	e := newAPIWith(t, bj(t, "2023-08-01T10:00:00"), false, nil, func(c *httpapi.Config) {
		c.Proxy.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.6/32")}
	})
	e.person("operator", auth.RoleOperator, "")
	proxy, other := fromAddr(t, "127.0.0.6"), fromAddr(t, "127.0.0.7")
	via := func(c *http.Client, forwarded, password string) resp {
		body, _ := json.Marshal(map[string]string{"login": "operator", "password": password})
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/sessions", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", forwarded)
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return resp{Status: res.StatusCode, Header: res.Header, Body: b}
	}
	for i := range 5 {
		e.wantProblem(via(proxy, "203.0.113.9", fmt.Sprint("guess ", i)), http.StatusUnauthorized, "auth.login_failed", "", "")
	}
	e.wantProblem(via(proxy, "203.0.113.9", testPassword), http.StatusTooManyRequests, "auth.throttled", "", "login")
	e.ok(via(proxy, "198.51.100.4", testPassword), http.StatusCreated, nil) // another client of the proxy

	for i := range 5 { // an untrusted peer: its own address counts, whatever it claims
		e.wantProblem(via(other, fmt.Sprintf("192.0.2.%d", i), "guess"), http.StatusUnauthorized, "auth.login_failed", "", "")
	}
	e.wantProblem(via(other, "192.0.2.200", testPassword), http.StatusTooManyRequests, "auth.throttled", "", "login")
}

// When the hashing budget is full for longer than HashWait, a password
// check answers 429 auth.busy with Retry-After: 1 and changes nothing —
// at sign-in and at an operator's password reset alike — and the check
// holding the room finishes normally.
func TestSignIn_BusyWhenHashingIsFull(t *testing.T) {
	var block atomic.Bool
	started, release := make(chan struct{}), make(chan struct{})
	e := newAPIWith(t, bj(t, "2023-08-01T10:00:00"), false, nil, func(c *httpapi.Config) {
		c.Sessions.HashMemory = int64(fastHash.Memory) << 10 // room for one check
		c.Sessions.HashWait = time.Millisecond
		c.Sessions.OnHash = func() {
			if block.Load() {
				started <- struct{}{}
				<-release
			}
		}
	})
	me := e.person("agent.one", auth.RoleAgent, "a1")
	a, b := fromAddr(t, "127.0.0.8"), fromAddr(t, "127.0.0.9")
	block.Store(true)
	held := make(chan resp)
	go func() {
		r, err := signIn(a, e.srv.URL, "agent.one", testPassword)
		if err != nil {
			t.Error(err)
		}
		held <- r
	}()
	<-started
	block.Store(false)
	r := e.loginFrom(b, "agent.one", testPassword)
	e.wantProblem(r, http.StatusTooManyRequests, "auth.busy", "", "")
	if ra := r.Header.Get("Retry-After"); ra != "1" {
		t.Fatalf("Retry-After %q, want 1", ra)
	}
	e.wantProblem(e.req(http.MethodPut, "/v1/people/"+me.ID+"/password", operatorKey, map[string]any{"new_password": "set while busy"}),
		http.StatusTooManyRequests, "auth.busy", "", "")
	close(release)
	if r := <-held; r.Status != http.StatusCreated {
		t.Fatalf("the check that held the room: %d %s", r.Status, r.Body)
	}
	// nothing changed: the old password still signs in, and a busy answer is no failure
	e.ok(e.loginFrom(b, "agent.one", testPassword), http.StatusCreated, nil)
}

// Every operation that hashes goes through the gate: the hook counts one
// argon2id run for a new login, a reset and a sign-in, two for a password
// change (the current one, then the new one), none for a refused length.
func TestPasswords_EveryHashGoesThroughTheGate(t *testing.T) {
	var hashes atomic.Int64
	e := newAPIWith(t, bj(t, "2023-08-01T10:00:00"), false, nil, func(c *httpapi.Config) {
		c.Sessions.OnHash = func() { hashes.Add(1) }
	})
	count := func(what string, want int64, f func()) {
		t.Helper()
		before := hashes.Load()
		f()
		if n := hashes.Load() - before; n != want {
			t.Fatalf("%s ran argon2id %d times, want %d", what, n, want)
		}
	}
	var me httpapi.PersonBody
	count("create-person", 1, func() { me = e.person("agent.one", auth.RoleAgent, "a1") })
	var s httpapi.SessionBody
	count("sign-in", 1, func() { s = e.session("agent.one") })
	count("change-password", 2, func() {
		e.ok(e.req(http.MethodPut, "/v1/me/password", s.Token, map[string]any{"current_password": testPassword, "new_password": "a brand new pass phrase"}), http.StatusOK, nil)
	})
	count("change-password with a short new one", 0, func() {
		e.wantProblem(e.req(http.MethodPut, "/v1/me/password", s.Token, map[string]any{"current_password": "a brand new pass phrase", "new_password": "short"}),
			http.StatusUnprocessableEntity, "password.length", "", "new_password")
	})
	count("reset-password", 1, func() {
		e.ok(e.req(http.MethodPut, "/v1/people/"+me.ID+"/password", operatorKey, map[string]any{"new_password": testPassword}), http.StatusOK, nil)
	})
}
