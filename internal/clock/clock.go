// Package clock provides the time source for the whole product. The domain
// never calls time.Now: it is handed a Clock, real in production and manual in
// tests, scenario replay and the sandbox.
package clock

import (
	"sync"
	"time"
)

// Clock tells the current time.
type Clock interface {
	Now() time.Time
}

// Real is the wall clock, in UTC.
type Real struct{}

// Now returns the current UTC time, to the microsecond: the precision
// PostgreSQL keeps, so a time read back from either store equals the one written.
func (Real) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Manual is a clock that moves only when told to. It is safe for concurrent use.
type Manual struct {
	mu      sync.Mutex
	now     time.Time
	waiters []chan struct{}
}

// NewManual returns a manual clock set to t.
func NewManual(t time.Time) *Manual { return &Manual{now: t.UTC().Truncate(time.Microsecond)} }

// Now returns the clock's current time.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// Set moves the clock to t (to the microsecond, like Real). Moving it
// backwards is ignored: time never runs back.
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	if t = t.UTC().Truncate(time.Microsecond); t.After(m.now) {
		m.now = t
	}
	ws := m.waiters
	m.waiters = nil
	m.mu.Unlock()
	for _, w := range ws {
		close(w)
	}
}

// Advance moves the clock forward by d.
func (m *Manual) Advance(d time.Duration) { m.Set(m.Now().Add(d)) }

// Changed returns a channel closed the next time the clock is set.
func (m *Manual) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := make(chan struct{})
	m.waiters = append(m.waiters, c)
	return c
}
