package webhook

import (
	"testing"
	"time"
)

// The fan-out cursor moves over what was read, waits behind a gap for
// GapWait counted from when the sequence after it was first read, and
// gives every gap of a burst up at once (PostgreSQL leaves one after each
// transaction's unused sequence values; waiting GapWait per gap in turn
// stalled webhooks for minutes after a replica was killed mid-sweep).
func TestAdvance_GapsOfABurstAgeTogether(t *testing.T) {
	s := New(Config{GapWait: 2 * time.Second, LateWindow: time.Minute})
	t0 := time.Unix(1_000_000, 0)
	var odd []int64
	for q := int64(1); q < 100; q += 2 {
		odd = append(odd, q)
	}
	if low := s.advance(CursorEvents, 0, odd, t0); low != 1 || !s.blocked[CursorEvents] {
		t.Fatalf("first read: cursor %d blocked %v, want 1 and blocked behind 2", low, s.blocked[CursorEvents])
	}
	// What a committed round records: every sequence read, first seen at t0.
	for _, q := range odd {
		s.seen[CursorEvents][q] = t0
	}
	if low := s.advance(CursorEvents, 1, nil, t0.Add(2*time.Second-time.Nanosecond)); low != 1 {
		t.Fatalf("gave up early: cursor %d", low)
	}
	// 4 committed meanwhile and is read now; every other gap is given up.
	low := s.advance(CursorEvents, 1, []int64{4}, t0.Add(2*time.Second))
	if low != 99 || s.blocked[CursorEvents] {
		t.Fatalf("after one GapWait: cursor %d blocked %v, want 99 and free", low, s.blocked[CursorEvents])
	}
	if _, ok := s.skipped[CursorEvents][2]; !ok {
		t.Error("2 not watched as a late arrival")
	}
	if _, ok := s.skipped[CursorEvents][4]; ok {
		t.Error("4 was read, yet it is watched as given up")
	}
	if len(s.skipped[CursorEvents]) != 48 {
		t.Errorf("%d sequences watched, want 48 (2, 6, 8, … 98)", len(s.skipped[CursorEvents]))
	}
	if len(s.seen[CursorEvents]) != 0 {
		t.Errorf("%d sequences still remembered below the cursor", len(s.seen[CursorEvents]))
	}
}
