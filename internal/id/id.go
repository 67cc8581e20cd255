// Package id makes sortable, prefixed identifiers such as tsk_01J… .
package id

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync"

	"aftersale/internal/clock"
)

// Generator makes new identifiers with a prefix ("tsk", "evt", "cmp" …).
type Generator interface {
	New(prefix string) string
}

// Sortable makes ids that sort by creation time: 12 hex digits of
// milliseconds, a per-process counter and random bits.
type Sortable struct {
	Clock clock.Clock
	mu    sync.Mutex
	last  int64
	seq   uint32
}

// New returns a new id with the prefix.
func (g *Sortable) New(prefix string) string {
	ms := g.Clock.Now().UnixMilli()
	g.mu.Lock()
	if ms <= g.last {
		ms = g.last
		g.seq++
	} else {
		g.last, g.seq = ms, 0
	}
	seq := g.seq
	g.mu.Unlock()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s_%012x%06x%08x", prefix, ms, seq&0xffffff, binary.BigEndian.Uint32(b[:]))
}

// Sequence makes deterministic ids (tsk_000001, tsk_000002 …), one counter per
// prefix, for scenario replay and golden tests.
type Sequence struct {
	mu sync.Mutex
	n  map[string]int
}

// New returns the next id for the prefix.
func (s *Sequence) New(prefix string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == nil {
		s.n = map[string]int{}
	}
	s.n[prefix]++
	return fmt.Sprintf("%s_%06d", prefix, s.n[prefix])
}
