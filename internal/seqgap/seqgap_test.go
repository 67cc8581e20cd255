package seqgap

import (
	"slices"
	"testing"
	"time"
)

// Advance moves over contiguous sequences, holds at a gap younger than the
// wait (wait − 1 ns), passes every gap whose next sequence was read at
// least wait ago, and stops at the first younger one.
func TestAdvance(t *testing.T) {
	t0 := time.Unix(1000, 0)
	const wait = 2 * time.Second
	seen := map[int64]time.Time{11: t0, 12: t0, 14: t0, 17: t0.Add(time.Second)}
	at := func(q int64) time.Time { return seen[q] }
	read := Sorted(seen)
	if low, gave := Advance(10, read, at, t0.Add(wait-1), wait); low != 12 || len(gave) != 0 {
		t.Fatalf("before the wait: %d %v, want 12 and nothing given up", low, gave)
	}
	if low, gave := Advance(10, read, at, t0.Add(wait), wait); low != 14 || !slices.Equal(gave, []int64{13}) {
		t.Fatalf("at the wait: %d %v, want 14 past 13 (17 read a second later still waits)", low, gave)
	}
	if low, gave := Advance(10, read, at, t0.Add(wait+time.Second), wait); low != 17 || !slices.Equal(gave, []int64{13, 15, 16}) {
		t.Fatalf("both gaps aged: %d %v", low, gave)
	}
	if low, gave := Advance(20, read, at, t0, wait); low != 20 || gave != nil {
		t.Fatalf("all below low: %d %v", low, gave)
	}
}

// Skipped: late arrivals are read after just below the oldest given-up
// sequence; a sequence given up more than the window ago is forgotten.
func TestSkipped(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s := Skipped{}
	if _, ok := s.From(); ok {
		t.Fatal("From of none")
	}
	s.Add([]int64{8, 5}, t0)
	s.Add([]int64{9}, t0.Add(time.Minute))
	if after, ok := s.From(); !ok || after != 4 {
		t.Fatalf("From %d %v, want 4", after, ok)
	}
	s.Expire(t0.Add(time.Minute), time.Minute) // exactly the window: kept
	if len(s) != 3 {
		t.Fatalf("expired at the window: %v", s)
	}
	s.Expire(t0.Add(time.Minute+1), time.Minute)
	if after, _ := s.From(); len(s) != 1 || after != 8 {
		t.Fatalf("after expiry: %v (From %d)", s, after)
	}
}
