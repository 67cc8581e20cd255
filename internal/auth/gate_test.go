package auth_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"aftersale/internal/auth"
)

// holdingGate is a gate of one slot whose hashes block until released, so
// a test holds the slot for as long as it needs.
type holdingGate struct {
	*auth.Gate
	started chan struct{}
	release chan struct{}
}

func newHoldingGate(t *testing.T, c auth.GateConfig) *holdingGate {
	h := &holdingGate{started: make(chan struct{}, 16), release: make(chan struct{})}
	c.Params, c.Memory = cheap, int64(cheap.Memory)<<10 // one slot
	c.OnHash = func() {
		h.started <- struct{}{}
		<-h.release
	}
	h.Gate = auth.NewGate(c)
	if h.Slots() != 1 {
		t.Fatalf("slots %d, want 1", h.Slots())
	}
	return h
}

// The gate sizes its slots from the memory budget: 64 MiB at 19 MiB a hash
// is 3; a budget below one hash still allows one.
func TestGate_SlotsFromMemoryBudget(t *testing.T) {
	for _, c := range []struct {
		mem  int64
		want int
	}{{0, 3}, {64 << 20, 3}, {200 << 20, 10}, {1 << 20, 1}} {
		if got := auth.NewGate(auth.GateConfig{Memory: c.mem, Params: auth.DefaultParams}).Slots(); got != c.want {
			t.Errorf("Memory %d: %d slots, want %d", c.mem, got, c.want)
		}
	}
}

// With every slot taken, a check that cannot get one within the wait is
// ErrBusy and runs no hash; a client with its share running is refused at
// once; when the slot frees, the next check runs and verifies.
func TestGate_BusyWhenFull(t *testing.T) {
	g := newHoldingGate(t, auth.GateConfig{Wait: time.Millisecond, PerClient: 1})
	phc, err := auth.HashPassword("correct horse", cheap)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		ok, err := g.Verify(ctx, "10.0.0.1", "correct horse", phc)
		if err == nil && !ok {
			err = errors.New("the right password did not verify")
		}
		done <- err
	}()
	<-g.started // 10.0.0.1 holds the only slot
	if _, err := g.Verify(ctx, "10.0.0.2", "correct horse", phc); !errors.Is(err, auth.ErrBusy) {
		t.Fatalf("a second client while the slot is held: %v, want ErrBusy", err)
	}
	if _, err := g.Hash(ctx, "10.0.0.1:5555", "correct horse", cheap); !errors.Is(err, auth.ErrBusy) {
		t.Fatalf("the same client again (its share is running): %v, want ErrBusy", err)
	}
	if len(g.started) != 0 {
		t.Fatal("a refused check ran a hash")
	}
	close(g.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if ok, err := g.Verify(ctx, "10.0.0.2", "correct horse", phc); err != nil || !ok {
		t.Fatalf("after the slot freed: %v %v", ok, err)
	}
}

// Under overload the newest waiter is served first (the oldest would time
// out anyway): with the slot held and two waiting, freeing it runs the one
// that came last.
func TestGate_NewestWaiterFirst(t *testing.T) {
	g := newHoldingGate(t, auth.GateConfig{Wait: time.Hour})
	ctx := context.Background()
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	run := func(client string) {
		defer wg.Done()
		if _, err := g.Hash(ctx, client, "pw", cheap); err != nil {
			t.Error(client, err)
		}
		mu.Lock()
		order = append(order, client)
		mu.Unlock()
	}
	wg.Add(1)
	go run("holder")
	<-g.started
	for _, c := range []string{"older", "newer"} {
		wg.Add(1)
		go run(c)
		waitFor(t, func() bool { return g.Waiting() == map[string]int{"older": 1, "newer": 2}[c] })
	}
	for k := 1; k <= 3; k++ { // one at a time: each finishes before the next is let go
		g.release <- struct{}{}
		waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(order) >= k })
	}
	wg.Wait()
	if got := order; len(got) != 3 || got[0] != "holder" || got[1] != "newer" || got[2] != "older" {
		t.Fatalf("order %v, want holder, newer, older", got)
	}
}

// waitFor polls cond (a goroutine reaching a state), failing after a minute.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition never held")
		}
	}
}

// An unknown login is checked against DummyHash: a valid PHC string of the
// configured cost that no password matches.
func TestDummyHash_CostsACheckAndMatchesNothing(t *testing.T) {
	d := auth.DummyHash(cheap)
	var runs int
	g := auth.NewGate(auth.GateConfig{Params: cheap, OnHash: func() { runs++ }})
	ok, err := g.Verify(context.Background(), "10.0.0.1", "", d)
	if err != nil || ok || runs != 1 {
		t.Fatalf("verify against the dummy: ok %v err %v hashes %d", ok, err, runs)
	}
	if d2 := auth.DummyHash(cheap); d2 == d {
		t.Fatal("two dummies are equal")
	}
}

// Failures count per client address: the fifth makes the address wait for
// the window's end, for every login; another address is not slowed, even
// for the same login. A success clears the login's count, not the
// address's. An IPv6 client is counted by its /64.
func TestThrottle_PerAddressNotPerAccount(t *testing.T) {
	start := time.Date(2023, 8, 1, 2, 0, 0, 0, time.UTC)
	th := auth.NewThrottle(auth.ThrottleConfig{MaxFailures: 5, Window: 15 * time.Minute})
	for range 5 {
		if _, ok := th.Allow("10.0.0.1", "operator", start); !ok {
			t.Fatal("refused before five failures")
		}
		th.Failed("10.0.0.1", "operator", start)
	}
	at := start.Add(10 * time.Minute)
	for _, login := range []string{"operator", "someone.else"} {
		if until, ok := th.Allow("10.0.0.1", login, at); ok || !until.Equal(start.Add(15*time.Minute)) {
			t.Fatalf("A for %s after five failures: ok %v until %v", login, ok, until)
		}
	}
	if _, ok := th.Allow("10.0.0.2", "operator", at); !ok {
		t.Fatal("B is refused the login A failed")
	}
	th.Succeeded("operator", at)
	if _, ok := th.Allow("10.0.0.1", "operator", at); ok {
		t.Fatal("a success of the login cleared the address's count")
	}

	for i := range 5 {
		th.Failed([]string{"2001:db8::1", "2001:db8::2"}[i%2], "x", at)
	}
	if _, ok := th.Allow("2001:db8::ffff", "y", at); ok {
		t.Fatal("IPv6 addresses of one /64 are counted apart")
	}
	if _, ok := th.Allow("2001:db8:0:1::1", "y", at); !ok {
		t.Fatal("another /64 is refused")
	}
}

// Many addresses failing at one login (past LoginMaxFailures) make that
// login refuse the addresses that failed, never one that has not.
func TestThrottle_PerLoginSlowsFailingAddresses(t *testing.T) {
	now := time.Date(2023, 8, 1, 2, 0, 0, 0, time.UTC)
	th := auth.NewThrottle(auth.ThrottleConfig{MaxFailures: 5, LoginMaxFailures: 10, Window: 15 * time.Minute})
	for i := range 10 {
		th.Failed("10.0.1."+string(rune('0'+i)), "operator", now)
	}
	if _, ok := th.Allow("10.0.1.0", "operator", now); ok {
		t.Fatal("an address with one failure may go on at a login past its bound")
	}
	if _, ok := th.Allow("10.0.1.0", "agent.one", now); !ok {
		t.Fatal("the login's bound refused another login")
	}
	if _, ok := th.Allow("10.9.9.9", "operator", now); !ok {
		t.Fatal("a clean address is refused: the account is locked")
	}
}

// Counters are dropped when their window ends (on the caller's clock): the
// throttle holds nothing for a past window, and a refused address may try
// again.
func TestThrottle_PurgedWhenWindowEnds(t *testing.T) {
	start := time.Date(2023, 8, 1, 2, 0, 0, 0, time.UTC)
	th := auth.NewThrottle(auth.ThrottleConfig{MaxFailures: 1, Window: 15 * time.Minute, MaxKeys: 3})
	for _, a := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"} {
		th.Failed(a, "login."+a, start)
	}
	if n := th.Len(start); n != 6 {
		t.Fatalf("%d counters, want 6 (3 addresses and 3 logins: MaxKeys bounds each)", n)
	}
	if _, ok := th.Allow("10.0.0.1", "x", start.Add(15*time.Minute-time.Second)); ok {
		t.Fatal("allowed before the window ended")
	}
	end := start.Add(15 * time.Minute)
	if n := th.Len(end); n != 0 {
		t.Fatalf("%d counters held after their window ended, want 0", n)
	}
	if _, ok := th.Allow("10.0.0.1", "x", end); !ok {
		t.Fatal("refused in the next window")
	}
}

// A stored hash of a higher cost takes the slots it needs; while it waits
// for them, a check that fits in the free slots is not held behind it.
func TestGate_SmallCheckNotHeldBehindABigOne(t *testing.T) {
	started, release := make(chan struct{}, 4), make(chan struct{})
	g := auth.NewGate(auth.GateConfig{Params: cheap, Memory: 2 * int64(cheap.Memory) << 10, Wait: time.Hour,
		OnHash: func() { started <- struct{}{}; <-release }})
	if g.Slots() != 2 {
		t.Fatalf("slots %d, want 2", g.Slots())
	}
	big := cheap
	big.Memory *= 2
	ctx := context.Background()
	var wg sync.WaitGroup
	hash := func(client string, p auth.Params) {
		defer wg.Done()
		if _, err := g.Hash(ctx, client, "pw", p); err != nil {
			t.Error(client, err)
		}
	}
	wg.Add(3)
	go hash("holder", cheap) // one slot
	<-started
	go hash("big", big) // needs both: waits
	waitFor(t, func() bool { return g.Waiting() == 1 })
	go hash("small", cheap) // fits in the free slot: it runs while the holder still holds its slot
	select {
	case <-started:
	case <-time.After(time.Minute): // a liveness guard, not a measure
		close(release)
		t.Fatal("the small check waits behind the big one although a slot is free")
	}
	if g.Waiting() != 1 {
		t.Fatalf("%d waiting, want the big one only", g.Waiting())
	}
	close(release)
	wg.Wait()
}
