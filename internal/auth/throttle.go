package auth

import (
	"net/netip"
	"sync"
	"time"
)

// Defaults of ThrottleConfig.
const (
	DefaultMaxFailures   = 5
	DefaultFailureWindow = 15 * time.Minute
	// DefaultThrottleKeys bounds the addresses (and, apart, the logins) a
	// window's counters hold: about 10 MB at most.
	DefaultThrottleKeys = 100_000
)

// ThrottleConfig sizes a Throttle. Zero fields take the defaults.
type ThrottleConfig struct {
	// MaxFailures failed password checks from one client address within a
	// window make that address wait until the window ends (default 5).
	MaxFailures int
	// LoginMaxFailures failed checks of one login, from all addresses,
	// within a window make that login refuse the addresses that have
	// failed in the window; an address with no failure still signs in
	// (default 10 × MaxFailures). The account is never locked.
	LoginMaxFailures int
	// Window is the length of the fixed windows failures are counted in
	// (default 15 minutes); counters are dropped when their window ends.
	Window time.Duration
	// MaxKeys bounds the addresses, and the logins, counted in a window;
	// past it a new one is not counted (the Gate still bounds the cost).
	MaxKeys int
}

// Throttle counts failed password checks per client address and per login
// in fixed windows, in memory (one process's view; restarting forgets
// them). It slows the address that fails, not the account it tries.
// Times are the caller's clock. It is safe for concurrent use.
type Throttle struct {
	cfg ThrottleConfig

	mu     sync.Mutex
	start  time.Time // of the window the counters are for
	addrs  map[string]int
	logins map[string]int
}

// NewThrottle returns a throttle sized by c.
func NewThrottle(c ThrottleConfig) *Throttle {
	if c.MaxFailures <= 0 {
		c.MaxFailures = DefaultMaxFailures
	}
	if c.LoginMaxFailures <= 0 {
		c.LoginMaxFailures = 10 * c.MaxFailures
	}
	if c.Window <= 0 {
		c.Window = DefaultFailureWindow
	}
	if c.MaxKeys <= 0 {
		c.MaxKeys = DefaultThrottleKeys
	}
	return &Throttle{cfg: c, addrs: map[string]int{}, logins: map[string]int{}}
}

// roll drops the counters of a window that has ended (t.mu held).
func (t *Throttle) roll(now time.Time) {
	if s := now.Truncate(t.cfg.Window); s.After(t.start) {
		t.start = s
		if len(t.addrs)+len(t.logins) > 0 {
			t.addrs, t.logins = map[string]int{}, map[string]int{}
		}
	}
}

// Allow says whether a password check of login from client address addr
// may run at now; when not, until says when it may (the window's end).
func (t *Throttle) Allow(addr, login string, now time.Time) (until time.Time, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.roll(now)
	key := ClientKey(addr)
	a := t.addrs[key]
	if a >= t.cfg.MaxFailures || a > 0 && t.logins[login] >= t.cfg.LoginMaxFailures {
		return t.start.Add(t.cfg.Window), false
	}
	return time.Time{}, true
}

// Failed counts a failed check of login from addr at now.
func (t *Throttle) Failed(addr, login string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.roll(now)
	incr(t.addrs, ClientKey(addr), t.cfg.MaxKeys)
	incr(t.logins, login, t.cfg.MaxKeys)
}

func incr(m map[string]int, k string, limit int) {
	if _, ok := m[k]; ok || len(m) < limit {
		m[k]++
	}
}

// Succeeded clears login's count at now (its password was given); the
// address's count stays, or knowing one password would buy more guesses.
func (t *Throttle) Succeeded(login string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.roll(now)
	delete(t.logins, login)
}

// Len is how many counters (addresses and logins) are held at now, after
// dropping an ended window's.
func (t *Throttle) Len(now time.Time) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.roll(now)
	return len(t.addrs) + len(t.logins)
}

// ClientKey is the unit a client address is counted as: an IPv4 address
// itself, an IPv6 address's /64 (one host holds a whole /64); anything
// else as it is.
func ClientKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		if ap, err2 := netip.ParseAddrPort(addr); err2 == nil {
			a = ap.Addr()
		} else {
			return addr
		}
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
