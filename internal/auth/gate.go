package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
)

// Defaults of GateConfig.
const (
	// DefaultHashMemory is the memory argon2id may hold at once: 64 MiB,
	// three hashes at DefaultParams' 19 MiB (more than two cores can run
	// anyway). Go's collector lets the heap grow to about twice what is
	// live, so hashing may take about 130 MB of resident memory.
	DefaultHashMemory = 64 << 20
	// DefaultHashWait is the longest a password check waits for room.
	DefaultHashWait = time.Second
	// DefaultHashPerClient is how many password checks one client address
	// may have running or waiting at once.
	DefaultHashPerClient = 2
)

// ErrBusy is returned when a password could not be hashed or checked
// because the gate had no room for it within its wait (or the client
// already had its share running or waiting). Retrying later may succeed.
var ErrBusy = errors.New("auth: password hashing is at capacity; try again shortly")

// GateConfig sizes a Gate. Zero fields take the defaults.
type GateConfig struct {
	// Memory is how many bytes argon2id may hold at once, over all
	// requests; the gate has Memory / Params.Memory slots (at least one).
	Memory int64
	// Params is the configured hash cost; a slot is Params.Memory KiB. A
	// stored hash of a higher cost takes as many slots as it needs.
	Params Params
	// Wait is the longest a check waits for a slot before ErrBusy.
	Wait time.Duration
	// PerClient is how many checks one client address may have running or
	// waiting; one more is refused at once with ErrBusy.
	PerClient int
	// Queue is how many checks may wait at once (default 16 per slot);
	// past it the one that waited longest is refused (ErrBusy).
	Queue int
	// OnHash, when set, is called before each argon2id run (tests count them).
	OnHash func()
}

// Gate bounds the memory password hashing takes: every argon2id run
// (signing in, changing or setting a password) holds slots of the gate for
// its duration, so at most Memory bytes of hashing are live at once however
// many requests arrive. A request without a free slot waits up to Wait; the
// newest waiter is served first (under overload the oldest would time out
// anyway, and a person arriving during a storm is not stuck behind it).
// It is safe for concurrent use.
type Gate struct {
	slots, perClient, queue int
	slotKiB                 uint32
	wait                    time.Duration
	onHash                  func()

	mu     sync.Mutex
	free   int
	active map[string]int // client address → checks running or waiting
	stack  []*gateWaiter  // the newest last
}

type gateWaiter struct {
	need  int
	ready chan bool // true: granted; false: pushed out of the queue
}

// NewGate returns a gate sized by c.
func NewGate(c GateConfig) *Gate {
	if c.Memory <= 0 {
		c.Memory = DefaultHashMemory
	}
	if c.Params == (Params{}) {
		c.Params = DefaultParams
	}
	if c.Params.Memory == 0 {
		c.Params.Memory = DefaultParams.Memory
	}
	if c.Wait <= 0 {
		c.Wait = DefaultHashWait
	}
	if c.PerClient <= 0 {
		c.PerClient = DefaultHashPerClient
	}
	slots := max(int(c.Memory/(int64(c.Params.Memory)<<10)), 1)
	if c.Queue <= 0 {
		c.Queue = 16 * slots
	}
	return &Gate{slots: slots, perClient: c.PerClient, queue: c.Queue, slotKiB: c.Params.Memory, wait: c.Wait,
		onHash: c.OnHash, free: slots, active: map[string]int{}}
}

// Slots is how many hashes of the configured cost may run at once.
func (g *Gate) Slots() int { return g.slots }

// Waiting is how many checks wait for a slot now.
func (g *Gate) Waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.stack)
}

// need is the number of slots a hash of memKiB takes.
func (g *Gate) need(memKiB uint32) int {
	n := int((uint64(memKiB) + uint64(g.slotKiB) - 1) / uint64(g.slotKiB))
	return min(max(n, 1), g.slots)
}

// acquire takes need slots for client, waiting up to g.wait; release
// gives them back.
func (g *Gate) acquire(ctx context.Context, client string, need int) (release func(), err error) {
	g.mu.Lock()
	if g.active[client] >= g.perClient {
		g.mu.Unlock()
		return nil, ErrBusy
	}
	g.active[client]++
	release = func() {
		g.mu.Lock()
		g.free += need
		g.leave(client)
		g.grant()
		g.mu.Unlock()
	}
	if len(g.stack) == 0 && g.free >= need {
		g.free -= need
		g.mu.Unlock()
		return release, nil
	}
	w := &gateWaiter{need: need, ready: make(chan bool, 1)}
	if len(g.stack) >= g.queue {
		oldest := g.stack[0]
		g.stack = g.stack[1:]
		oldest.ready <- false
	}
	g.stack = append(g.stack, w)
	g.grant() // free slots an older, bigger waiter cannot use yet go to this one
	g.mu.Unlock()

	timer := time.NewTimer(g.wait)
	defer timer.Stop()
	select {
	case ok := <-w.ready:
		return g.granted(ok, client, release)
	case <-timer.C:
	case <-ctx.Done():
	}
	g.mu.Lock()
	for i, x := range g.stack {
		if x == w {
			g.stack = append(g.stack[:i], g.stack[i+1:]...)
			g.leave(client)
			g.grant() // it may have been the one the free slots did not fit
			g.mu.Unlock()
			return nil, ErrBusy
		}
	}
	g.mu.Unlock()
	return g.granted(<-w.ready, client, release) // granted or pushed out meanwhile
}

func (g *Gate) granted(ok bool, client string, release func()) (func(), error) {
	if ok {
		return release, nil
	}
	g.mu.Lock()
	g.leave(client)
	g.mu.Unlock()
	return nil, ErrBusy
}

// leave forgets one check of client (g.mu held).
func (g *Gate) leave(client string) {
	if g.active[client] <= 1 {
		delete(g.active, client)
		return
	}
	g.active[client]--
}

// grant hands free slots to the newest waiters (g.mu held).
func (g *Gate) grant() {
	for len(g.stack) > 0 {
		top := g.stack[len(g.stack)-1]
		if g.free < top.need {
			return
		}
		g.free -= top.need
		g.stack = g.stack[:len(g.stack)-1]
		top.ready <- true
	}
}

// Hash is HashPassword through the gate, for a request from client.
func (g *Gate) Hash(ctx context.Context, client, pw string, p Params) (string, error) {
	release, err := g.acquire(ctx, ClientKey(client), g.need(p.Memory))
	if err != nil {
		return "", err
	}
	defer release()
	if g.onHash != nil {
		g.onHash()
	}
	return HashPassword(pw, p)
}

// Verify is VerifyPassword through the gate, for a request from client.
// A stored hash that is not an argon2id PHC string is ErrBadHash (no
// hashing is done).
func (g *Gate) Verify(ctx context.Context, client, pw, phc string) (bool, error) {
	p, salt, want, err := parsePHC(phc)
	if err != nil {
		return false, err
	}
	release, err := g.acquire(ctx, ClientKey(client), g.need(p.Memory))
	if err != nil {
		return false, err
	}
	defer release()
	if g.onHash != nil {
		g.onHash()
	}
	return matches(pw, p, salt, want), nil
}

// DummyHash returns a PHC string of cost p that no password matches (its
// key is random, not derived): verifying an unknown login's password
// against it costs what a real check costs, without hashing to make it.
func DummyHash(p Params) string {
	salt, key := make([]byte, max(p.SaltLen, 16)), make([]byte, max(p.KeyLen, 32))
	if _, err := rand.Read(salt); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	if _, err := rand.Read(key); err != nil {
		panic(err)
	}
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}
