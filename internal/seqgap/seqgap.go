// Package seqgap follows a log (events, outbox) whose sequence numbers can
// become visible out of order and with holes: on PostgreSQL concurrent
// writers commit in any order, and values a transaction reserved but did
// not use, or that a killed replica held, never show up. A reader keeps a
// low-water mark (every sequence at or below it handled or given up); it
// moves over what it has read and, after a wait, past a gap, remembering
// the given-up sequences for a while in case they commit late.
//
// The live hub's tail and the webhook fan-out both follow logs this way.
package seqgap

import (
	"slices"
	"time"
)

// Advance returns how far a reader at low can move, given the sequences it
// has read above low (sorted ascending; those at or below low are ignored),
// each first read at seenAt(seq): over contiguous sequences, and past a gap
// once the first sequence after it was read wait before now. Timing each
// gap from the read of the sequence after it, rather than from when the
// reader reached it, lets all the gaps of a burst age together. gaveUp
// lists the sequences of the gaps passed over, ascending.
func Advance(low int64, read []int64, seenAt func(int64) time.Time, now time.Time, wait time.Duration) (newLow int64, gaveUp []int64) {
	for _, seq := range read {
		if seq <= low {
			continue
		}
		if seq > low+1 {
			if now.Sub(seenAt(seq)) < wait {
				break
			}
			for q := low + 1; q < seq; q++ {
				gaveUp = append(gaveUp, q)
			}
		}
		low = seq
	}
	return low, gaveUp
}

// Skipped holds given-up sequences and when they were given up, so that one
// that commits late is still handed out within a window.
type Skipped map[int64]time.Time

// Add records seqs as given up at now.
func (s Skipped) Add(seqs []int64, now time.Time) {
	for _, q := range seqs {
		s[q] = now
	}
}

// Expire forgets the sequences given up more than window before now.
func (s Skipped) Expire(now time.Time, window time.Duration) {
	for q, at := range s {
		if now.Sub(at) > window {
			delete(s, q)
		}
	}
}

// From is where to read late arrivals after: just below the oldest given-up
// sequence; ok is false when none is watched. (A read of its own: reading
// new items from there would return pages of items already handled.)
func (s Skipped) From() (after int64, ok bool) {
	for q := range s {
		if !ok || q-1 < after {
			after, ok = q-1, true
		}
	}
	return after, ok
}

// Sorted returns the keys of m in ascending order.
func Sorted[V any](m map[int64]V) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
